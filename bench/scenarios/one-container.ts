/**
 * Scenario 1: one container, start to exit. minipod attached (`run`, restartPolicy Never) with
 * no network and with the default bridge, `crun run` (in its hybrid-cgroup wrapper) and
 * `runc run`, alternating within each round so drift in the host hits every tool alike.
 *
 * minipod's `run` is a client of its daemon. The main rows are warm: the daemon runs, has
 * served pods and its pool is full (`daemon settle` before every timed run and after every
 * minipod measurement, so no pool refill overlaps another tool's run), and the last pod
 * started more than the pool's burst gap ago (DaemonControl.quiet: the timed pod is not the
 * next of a burst, whose claim would refill the pool beside it). Extra rows, in the
 * same rounds: network none with no daemon running (the timed run starts it: cold), and
 * network none on a daemon started with MINIPOD_WARM_SANDBOXES=0 (no pool). Daemon stops,
 * starts and warm-ups are untimed (tools/daemon.ts).
 *
 * The container runs `/bin/sh -c 'echo MARKER'`: /bin/sh and /bin/true are the same busybox
 * binary, so it costs what /bin/true costs plus one write, and the marker proves it ran.
 */
import { summarize } from '../stats.js';
import { type Context, type Row, withRetry } from '../types.js';
import { type TracePoint, removeAllPods, runAttached, writePod } from '../tools/minipod.js';
import { crunRun, crunWrapper, runcRun } from '../tools/oci.js';
import type { Timed } from '../exec.js';
import { run } from '../exec.js';

export const S1_MARKER = 'minipod-bench-s1-ok';
export const S1_COMMAND = ['/bin/sh', '-c', `echo ${S1_MARKER}`];

/** The minipod rows, in the order the report shows them, and what their breakdown is called. */
export const S1_MINIPOD_ROWS: Record<string, string> = {
  'minipod-none': 'network none, warm daemon',
  'minipod-bridge': 'network bridge, warm daemon',
  'minipod-none-cold': 'network none, daemon not running (the run starts it)',
  'minipod-none-nopool': 'network none, pool disabled (MINIPOD_WARM_SANDBOXES=0)',
};

export interface S1Result {
  rows: Row[];
  /** Trace points of every measured minipod run, by row id (`minipod-none`, ...). */
  traces: Record<string, TracePoint[][]>;
  /** Wall time of the same runs (for the part after the last trace point). */
  totals: Record<string, number[]>;
}

export async function scenarioOneContainer(ctx: Context): Promise<S1Result> {
  const { minipod: m, daemon: d } = ctx;
  const manifests = {
    none: writePod(m, 'mpb-s1-none', ctx.image, 'none', [{ name: 'c', command: S1_COMMAND }]),
    bridge: writePod(m, 'mpb-s1-bridge', ctx.image, 'bridge', [{ name: 'c', command: S1_COMMAND }]),
  };
  interface Tool {
    id: string;
    tool: string;
    note?: string;
    /** Untimed, before the timed run: put the daemon in the state this row measures. */
    before?: () => Promise<void>;
    once: (i: number) => Promise<Timed & { trace?: TracePoint[] }>;
    /** Untimed, right after: `daemon settle`, so no pool refill overlaps the next tool's run. */
    after?: () => Promise<void>;
  }
  const settle = (): Promise<void> => d.settle();
  const tools: Tool[] = [
    {
      id: 'minipod-none-nopool',
      tool: 'minipod run (network none), pool disabled',
      note: 'daemon started with MINIPOD_WARM_SANDBOXES=0, warmed up, settled',
      before: () => d.use('nopool', ['none']),
      once: () => runAttached(m, manifests.none, S1_MARKER),
      after: settle,
    },
    {
      id: 'minipod-none-cold',
      tool: 'minipod run (network none), daemon not running',
      note: 'cold: `daemon stop` before (untimed); the run starts the daemon',
      before: () => d.stop(),
      once: () => runAttached(m, manifests.none, S1_MARKER, d.env('default')),
      after: async () => {
        d.adoptStarted();
        await settle();
      },
    },
    {
      id: 'minipod-none',
      tool: 'minipod run (network none)',
      note: 'warm daemon, pool full',
      before: async () => {
        await d.use('default', ['none', 'bridge']);
        await d.quiet();
      },
      once: () => runAttached(m, manifests.none, S1_MARKER),
      after: settle,
    },
    {
      id: 'minipod-bridge',
      tool: 'minipod run (bridge, CNI)',
      note: 'warm daemon, pool full',
      before: async () => {
        await d.use('default', ['none', 'bridge']);
        await d.quiet();
      },
      once: () => runAttached(m, manifests.bridge, S1_MARKER),
      after: settle,
    },
    {
      id: 'crun',
      tool: 'crun run (+ wrapper)',
      note: 'includes the unshare/umount wrapper',
      once: (i) => crunRun(ctx.bundles.s1, `mpb-crun-${i}`, S1_MARKER),
    },
    { id: 'runc', tool: 'runc run', once: (i) => runcRun(ctx.bundles.s1, `mpb-runc-${i}`, S1_MARKER) },
    { id: 'crun-wrapper', tool: 'crun wrapper alone', note: 'unshare -m + sh + umount, exec /bin/true', once: () => crunWrapper() },
    { id: 'spawn-floor', tool: 'spawn /bin/true from Node', note: "the harness's own floor", once: () => run('/bin/true', []) },
  ];
  const samples = new Map<string, number[]>(tools.map((t) => [t.id, []]));
  const traces: S1Result['traces'] = {};
  const totals: S1Result['totals'] = {};
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    for (const t of tools) {
      const r = await withRetry(
        ctx,
        `s1 ${t.id} round ${i}`,
        async () => {
          await t.before?.();
          const timed = await t.once(i);
          await t.after?.();
          return timed;
        },
        () => removeAllPods(m),
      );
      if (!measured) continue;
      samples.get(t.id)!.push(r.ms);
      if (r.trace && t.id in S1_MINIPOD_ROWS) {
        (traces[t.id] ??= []).push(r.trace);
        (totals[t.id] ??= []).push(r.ms);
      }
    }
    ctx.log(
      `s1 ${measured ? `round ${i - ctx.warmup + 1}/${ctx.rounds}` : 'warm-up'}: ${tools.map((t) => `${t.id} ${samples.get(t.id)!.at(-1)?.toFixed(1) ?? '-'}`).join(', ')}`,
    );
  }
  // Warm rows first, as before; the cold and no-pool rows after them.
  const order = Object.keys(S1_MINIPOD_ROWS);
  const shown = [...tools].sort((a, b) => (order.indexOf(a.id) + 1 || 99) - (order.indexOf(b.id) + 1 || 99));
  const rows: Row[] = shown.map((t) => ({
    scenario: '1. one container, start to exit',
    id: `s1.${t.id}`,
    tool: t.tool,
    metric: 'start to exit',
    unit: 'ms',
    samples: samples.get(t.id)!,
    summary: summarize(samples.get(t.id)!),
    note: t.note,
  }));
  // crun's own time: wrapper subtracted round by round.
  const crunNet = samples.get('crun')!.map((v, i) => v - (samples.get('crun-wrapper')![i] ?? 0));
  rows.push({
    scenario: rows[0]!.scenario,
    id: 's1.crun-net',
    tool: 'crun run (wrapper subtracted)',
    metric: 'start to exit',
    unit: 'ms',
    samples: crunNet,
    summary: summarize(crunNet),
    note: 'crun minus wrapper, per round',
  });
  return { rows, traces, totals };
}
