/**
 * What a user namespace adds to a pod's start and stop: the 3-container pod of scenario 2
 * (CNI bridge, `run -d` / `rm -f`, warm daemon settled before each timed step), once with the
 * host's users and once with `spec.hostUsers: false`. A pod with its own user namespace never
 * takes a warm-pool sandbox (docs/security.md), so the default pod is also measured with the
 * pool disabled: the ratio to that row is the cost of the user namespace itself (unshare and
 * nsenter, the id maps, the idmapped overlay, the range and its ACLs), the ratio to the warm
 * row what a user sees.
 */
import { summarize } from '../stats.js';
import { type Context, type Row, withRetry } from '../types.js';
import type { DaemonVariant } from '../tools/daemon.js';
import { expectMarkers, podDown, podUp, removeAllPods, writePod } from '../tools/minipod.js';

const CONTAINERS = ['a', 'b', 'c'];

interface UsernsVariant {
  id: string;
  tool: string;
  daemon: DaemonVariant;
  spec: object;
}

const VARIANTS: UsernsVariant[] = [
  { id: 'default', tool: 'minipod run -d / rm -f, host users', daemon: 'default', spec: {} },
  { id: 'userns', tool: 'minipod run -d / rm -f, hostUsers: false', daemon: 'default', spec: { hostUsers: false } },
  { id: 'default-nopool', tool: 'minipod run -d / rm -f, host users, pool disabled', daemon: 'nopool', spec: {} },
];

export async function scenarioUserns(ctx: Context): Promise<Row[]> {
  const m = ctx.minipod;
  if (!m.detach) throw new Error('the user namespace scenario needs minipod run -d');
  const up = new Map<string, number[]>(VARIANTS.map((v) => [v.id, []]));
  const down = new Map<string, number[]>(VARIANTS.map((v) => [v.id, []]));
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    for (const v of VARIANTS) {
      let attempt = 0;
      const r = await withRetry(
        ctx,
        `userns ${v.id} round ${i}`,
        async () => {
          const name = `mpb-un-${v.id}-${i}${attempt++ > 0 ? 'r' : ''}`;
          await ctx.daemon.use(v.daemon, ['bridge', 'detached']);
          await ctx.daemon.settle();
          const containers = CONTAINERS.map((c) => ({
            name: c,
            command: ['/bin/sh', '-c', `echo mpb-${name}-${c}; id -u; exec sleep 100000`],
          }));
          const pod = await podUp(m, name, writePod(m, name, ctx.image, 'bridge', containers, v.spec), true);
          await expectMarkers(
            m,
            pod,
            CONTAINERS.map((c) => `mpb-${name}-${c}`),
          );
          await ctx.daemon.settle();
          const downMs = await podDown(m, pod);
          await ctx.daemon.settle();
          return { upMs: pod.upMs, downMs };
        },
        () => removeAllPods(m),
      );
      if (measured) {
        up.get(v.id)!.push(r.upMs);
        down.get(v.id)!.push(r.downMs);
      }
    }
    ctx.log(
      `userns ${measured ? `round ${i - ctx.warmup + 1}/${ctx.rounds}` : 'warm-up'}: ${VARIANTS.map((v) => `${v.id} up ${up.get(v.id)!.at(-1)?.toFixed(0) ?? '-'} down ${down.get(v.id)!.at(-1)?.toFixed(0) ?? '-'}`).join(', ')}`,
    );
  }
  const rows: Row[] = [];
  for (const [metric, data] of [
    ['up', up],
    ['down', down],
  ] as const) {
    for (const v of VARIANTS) {
      rows.push({
        scenario: `6. 3-container pod ${metric}, user namespace`,
        id: `un.${metric}.${v.id}`,
        tool: v.tool,
        metric,
        unit: 'ms',
        samples: data.get(v.id)!,
        summary: summarize(data.get(v.id)!),
        note: v.daemon === 'nopool' ? 'daemon started with MINIPOD_WARM_SANDBOXES=0' : 'warm daemon',
      });
    }
  }
  return rows;
}
