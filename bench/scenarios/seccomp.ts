/**
 * What seccomp adds to a pod's start: the same pods as scenario 1 (network none, warm daemon,
 * attached `run`, start to exit), under the default profile and with `seccompProfile:
 * Unconfined`, alternating within each round. One container, and three (each container
 * loads its own filter). The filter is compiled once per profile and capability set and
 * cached in the daemon, so a round measures what every pod pays: the program in the plan
 * and its load before execve, plus the filter on each syscall the container makes.
 */
import { summarize } from '../stats.js';
import { type Context, type Row, withRetry } from '../types.js';
import { removeAllPods, runAttached, writePod } from '../tools/minipod.js';
import { S1_COMMAND, S1_MARKER } from './one-container.js';

export const SECCOMP_ROWS = {
  'default-1': 'one container, default profile',
  'unconfined-1': 'one container, Unconfined',
  'default-3': 'three containers, default profile',
  'unconfined-3': 'three containers, Unconfined',
};

export async function scenarioSeccomp(ctx: Context): Promise<Row[]> {
  const { minipod: m, daemon: d } = ctx;
  const unconfined = { securityContext: { seccompProfile: { type: 'Unconfined' } } };
  const three = ['a', 'b', 'c'].map((name) => ({ name, command: S1_COMMAND }));
  const manifests: Record<keyof typeof SECCOMP_ROWS, string> = {
    'default-1': writePod(m, 'mpb-sc-d1', ctx.image, 'none', [{ name: 'c', command: S1_COMMAND }]),
    'unconfined-1': writePod(m, 'mpb-sc-u1', ctx.image, 'none', [{ name: 'c', command: S1_COMMAND }], unconfined),
    'default-3': writePod(m, 'mpb-sc-d3', ctx.image, 'none', three),
    'unconfined-3': writePod(m, 'mpb-sc-u3', ctx.image, 'none', three, unconfined),
  };
  const ids = Object.keys(SECCOMP_ROWS) as (keyof typeof SECCOMP_ROWS)[];
  const samples = new Map<string, number[]>(ids.map((id) => [id, []]));
  await d.use('default', ['none']);
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    // Which variant goes first alternates, so neither always follows the other.
    const order = i % 2 === 0 ? ids : [...ids].reverse();
    for (const id of order) {
      const r = await withRetry(
        ctx,
        `seccomp ${id} round ${i}`,
        async () => {
          const timed = await runAttached(m, manifests[id], S1_MARKER);
          await d.settle();
          return timed;
        },
        () => removeAllPods(m),
      );
      if (measured) samples.get(id)!.push(r.ms);
    }
    ctx.log(
      `seccomp ${measured ? `round ${i - ctx.warmup + 1}/${ctx.rounds}` : 'warm-up'}: ${ids.map((id) => `${id} ${samples.get(id)!.at(-1)?.toFixed(1) ?? '-'}`).join(', ')}`,
    );
  }
  return ids.map((id) => ({
    scenario: '5. what seccomp adds to a pod start',
    id: `sc.${id}`,
    tool: `minipod run (network none): ${SECCOMP_ROWS[id]}`,
    metric: 'start to exit',
    unit: 'ms' as const,
    samples: samples.get(id)!,
    summary: summarize(samples.get(id)!),
    note: 'warm daemon, pool full; compiled filters cached by the daemon',
  }));
}
