/**
 * Scenario `bb` (issue 16): pods as users run them, one after another, with no `daemon settle`
 * between them, and the daemon's footprint once they stop coming.
 *
 * Every tool runs a block of `warmup + rounds` runs back to back (the next run starts when the
 * previous one's command returned, as a script's loop does); the first `warmup` runs of a
 * block are left out (the first of a burst finds the pool full). Blocks alternate tools, twice
 * over, so drift in the host hits every tool alike; between blocks, untimed, the daemon is
 * settled so nothing of minipod's boots in the background during a peer's block.
 *
 * Rows: one container `/bin/sh -c 'echo MARKER'` (scenario 1's command), network none, back to
 * back and 1.5 s apart (no settle either way); runc back to back; minipod with the default
 * bridge against `podman run --rm` with its default network; a 3-container pod (default
 * network) up and down (`run -d` + `rm -f`) against podman's pod create + 3x run -d + pod rm.
 *
 * Idle footprint: the daemon, its pooled helpers and conmons (RSS and PSS summed over the processes)
 * sampled (a) with the pool full after `daemon settle` (what the daemon held while idle before
 * the pool adapted to demand), (b) 2 s after the last pod of a burst, (c) `quietS` seconds
 * after it, when a demand-sized pool has drained.
 */
import { sleep } from '../exec.js';
import { type Mem, ZERO_MEM, addMem, readMem } from '../procfs.js';
import { summarize } from '../stats.js';
import { type Context, type Row, withRetry } from '../types.js';
import { type TracePoint, podDown, podUp, removeAllPods, runAttached, writePod } from '../tools/minipod.js';
import { runcRun } from '../tools/oci.js';
import { PODMAN_IMAGE, podmanDown, podmanUp } from '../tools/podman.js';
import { GuardFailed, run } from '../exec.js';
import { S1_COMMAND, S1_MARKER } from './one-container.js';

/** The minipod rows with a start-path breakdown, and their titles. */
export const BB_MINIPOD_ROWS: Record<string, string> = {
  'minipod-none': 'network none, back to back (no settle)',
  'minipod-none-spaced': 'network none, 1.5 s apart (no settle)',
  'minipod-bridge': 'network bridge, back to back (no settle)',
};

export interface BackToBackResult {
  rows: Row[];
  traces: Record<string, TracePoint[][]>;
  totals: Record<string, number[]>;
}

interface Tool {
  id: string;
  tool: string;
  scenario: string;
  metric: string;
  note?: string;
  minipod: boolean;
  /** Untimed, before the block's first run. */
  before?: () => Promise<void>;
  once: (i: number) => Promise<{ ms: number; trace?: TracePoint[] }>;
  /** Pause between two runs of the block (not timed). */
  gapMs?: number;
}

const SCENARIO_ONE = '9. back to back: one container, start to exit';
const SCENARIO_POD = '9. back to back: 3-container pod, up + down';
const SCENARIO_IDLE = '10. idle footprint: daemon + pool';

const CONTAINERS = ['a', 'b', 'c'];

export async function scenarioBackToBack(ctx: Context, opts: { gapMs: number; quietS: number; blocks: number }): Promise<BackToBackResult> {
  const { minipod: m, daemon: d, podman: p } = ctx;
  const manifests = {
    none: writePod(m, 'mpb-bb-none', ctx.image, 'none', [{ name: 'c', command: S1_COMMAND }]),
    bridge: writePod(m, 'mpb-bb-bridge', ctx.image, 'bridge', [{ name: 'c', command: S1_COMMAND }]),
  };
  const podCommand = (pod: string, c: string): string[] => ['/bin/sh', '-c', `echo mpb-marker-${pod}-${c}; exec sleep 100000`];
  const warm = (): Promise<void> => d.use('default', ['none', 'bridge', 'detached']);
  let podSeq = 0;
  const tools: Tool[] = [
    {
      id: 'minipod-none',
      tool: 'minipod run (network none), back to back',
      scenario: SCENARIO_ONE,
      metric: 'start to exit',
      note: 'warm daemon; no settle between runs',
      minipod: true,
      before: warm,
      once: () => runAttached(m, manifests.none, S1_MARKER),
    },
    {
      id: 'runc',
      tool: 'runc run, back to back',
      scenario: SCENARIO_ONE,
      metric: 'start to exit',
      minipod: false,
      once: (i) => runcRun(ctx.bundles.s1, `mpb-bb-runc-${i}`, S1_MARKER),
    },
    {
      id: 'minipod-none-spaced',
      tool: `minipod run (network none), ${(opts.gapMs / 1000).toFixed(1)} s apart`,
      scenario: SCENARIO_ONE,
      metric: 'start to exit',
      note: 'warm daemon; no settle between runs',
      minipod: true,
      before: warm,
      once: () => runAttached(m, manifests.none, S1_MARKER),
      gapMs: opts.gapMs,
    },
    {
      id: 'minipod-bridge',
      tool: 'minipod run (bridge, CNI), back to back',
      scenario: SCENARIO_ONE,
      metric: 'start to exit',
      note: 'warm daemon; no settle between runs',
      minipod: true,
      before: warm,
      once: () => runAttached(m, manifests.bridge, S1_MARKER),
    },
  ];
  if (p) {
    tools.push({
      id: 'podman-run',
      tool: 'podman run --rm (default network), back to back',
      scenario: SCENARIO_ONE,
      metric: 'start to exit',
      minipod: false,
      once: async () => {
        const r = await run('podman', ['run', '--rm', PODMAN_IMAGE, ...S1_COMMAND], { env: p.env });
        if (r.code !== 0 || !r.stdout.includes(S1_MARKER))
          throw new GuardFailed(`podman run --rm: code=${r.code}\n${r.stderr.slice(-1000)}`);
        return r;
      },
    });
  }
  tools.push({
    id: 'pod.minipod',
    tool: `minipod ${m.detach ? 'run -d / rm -f' : 'run (attached) / SIGTERM'}, back to back`,
    scenario: SCENARIO_POD,
    metric: 'up + down',
    note: 'warm daemon; no settle between pods',
    minipod: true,
    before: warm,
    once: async () => {
      const name = `mpb-bb-pod-${podSeq++}`;
      const manifest = writePod(
        m,
        name,
        ctx.image,
        'bridge',
        CONTAINERS.map((c) => ({ name: c, command: podCommand(name, c) })),
      );
      const pod = await podUp(m, name, manifest, m.detach);
      const downMs = await podDown(m, pod);
      return { ms: pod.upMs + downMs, trace: pod.trace };
    },
  });
  if (p) {
    tools.push({
      id: 'pod.podman',
      tool: 'podman pod create + 3x run -d / pod rm -f -t 0, back to back',
      scenario: SCENARIO_POD,
      metric: 'up + down',
      minipod: false,
      once: async () => {
        const name = `mpb-bb-podman-${podSeq++}`;
        const pod = await podmanUp(
          p,
          name,
          CONTAINERS.map((c) => ({ name: c, command: podCommand(name, c) })),
        );
        return { ms: pod.upMs + (await podmanDown(p, pod)) };
      },
    });
  }

  const samples = new Map<string, number[]>(tools.map((t) => [t.id, []]));
  const traces: BackToBackResult['traces'] = {};
  const totals: BackToBackResult['totals'] = {};
  const per = Math.max(1, Math.ceil(ctx.rounds / opts.blocks));
  for (let b = 0; b < opts.blocks; b++) {
    for (const t of tools) {
      await withRetry(
        ctx,
        `bb ${t.id} block ${b}`,
        async () => {
          await t.before?.();
          const got: { ms: number; trace?: TracePoint[] }[] = [];
          for (let i = 0; i < ctx.warmup + per; i++) {
            if (i > 0 && t.gapMs) await sleep(t.gapMs);
            got.push(await t.once(b * 1000 + i));
          }
          // Untimed: whatever the burst left booting finishes before the next tool's block.
          if (t.minipod) await d.settle();
          for (const r of got.slice(ctx.warmup)) {
            samples.get(t.id)!.push(r.ms);
            if (r.trace && t.id in BB_MINIPOD_ROWS) {
              (traces[t.id] ??= []).push(r.trace);
              (totals[t.id] ??= []).push(r.ms);
            }
          }
        },
        () => removeAllPods(m),
      );
      ctx.log(`bb block ${b + 1}/${opts.blocks} ${t.id}: median ${summarize(samples.get(t.id)!).median.toFixed(1)} ms`);
    }
  }
  const rows: Row[] = tools.map((t) => ({
    scenario: t.scenario,
    id: `bb.${t.id}`,
    tool: t.tool,
    metric: t.metric,
    unit: 'ms',
    samples: samples.get(t.id)!,
    summary: summarize(samples.get(t.id)!),
    note: t.note,
  }));
  rows.push(...(await idleFootprint(ctx, manifests.none, opts.quietS)));
  return { rows, traces, totals };
}

/**
 * The daemon, every helper below it and the pool's conmons with their processes (conmon mode):
 * with no pod running, all of them are the pool's.
 */
function footprint(ctx: Context): { mem: Mem; processes: number } {
  const pid = ctx.daemon.pid;
  if (!pid) throw new GuardFailed('idle footprint: no daemon');
  const pids = [pid, ...ctx.daemon.poolHelpers(), ...ctx.daemon.pooledConmonProcs()];
  return { mem: pids.reduce((a, q) => addMem(a, readMem(q) ?? ZERO_MEM), ZERO_MEM), processes: pids.length };
}

/**
 * (a) pool full after `daemon settle`; then a burst of 5 pods, and (b) 2 s, (c) `quietS` s
 * after the last one. One sample of each (it takes `quietS` seconds).
 */
async function idleFootprint(ctx: Context, manifest: string, quietS: number): Promise<Row[]> {
  const d = ctx.daemon;
  await d.use('default', ['none']);
  await sleep(1000);
  await d.settle();
  const full = footprint(ctx);
  for (let i = 0; i < 5; i++) await runAttached(ctx.minipod, manifest, S1_MARKER);
  await sleep(2000);
  const after = footprint(ctx);
  await sleep(quietS * 1000 - 2000);
  const quiet = footprint(ctx);
  // The daemon must be the one we measured all along (not restarted meanwhile).
  await d.settle();
  ctx.log(
    `bb idle footprint RSS/PSS MB: full pool ${(full.mem.rss / 1024).toFixed(0)}/${(full.mem.pss / 1024).toFixed(0)} (${full.processes} procs), ` +
      `2 s after ${(after.mem.rss / 1024).toFixed(0)}/${(after.mem.pss / 1024).toFixed(0)} (${after.processes}), ` +
      `${quietS} s after ${(quiet.mem.rss / 1024).toFixed(0)}/${(quiet.mem.pss / 1024).toFixed(0)} (${quiet.processes})`,
  );
  const rows: Row[] = [];
  for (const [id, what, s] of [
    ['full', 'daemon + pool after `daemon settle` (pool full)', full],
    ['after-2s', 'daemon + pool 2 s after the last of 5 pods', after],
    ['quiet', `daemon + pool ${quietS} s after the last of 5 pods`, quiet],
  ] as const) {
    for (const k of ['rss', 'pss'] as const) {
      rows.push({
        scenario: SCENARIO_IDLE,
        id: `bb.idle.${k}.${id}`,
        tool: what,
        metric: k.toUpperCase(),
        unit: 'kB',
        samples: [s.mem[k]],
        summary: summarize([s.mem[k]]),
        note: `${s.processes} process(es)`,
      });
    }
  }
  return rows;
}
