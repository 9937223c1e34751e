/**
 * Scenario 1: one container, start to exit. minipod attached (`run`, restartPolicy Never) with
 * no network and with the default bridge, `crun run` (in its hybrid-cgroup wrapper) and
 * `runc run`, alternating within each round so drift in the host hits every tool alike.
 *
 * The container runs `/bin/sh -c 'echo MARKER'`: /bin/sh and /bin/true are the same busybox
 * binary, so it costs what /bin/true costs plus one write, and the marker proves it ran.
 */
import { summarize } from '../stats.js';
import { type Context, type Row, withRetry } from '../types.js';
import { type TracePoint, runAttached, writePod } from '../tools/minipod.js';
import { crunRun, crunWrapper, runcRun } from '../tools/oci.js';
import type { Timed } from '../exec.js';
import { run } from '../exec.js';

export const S1_MARKER = 'minipod-bench-s1-ok';
export const S1_COMMAND = ['/bin/sh', '-c', `echo ${S1_MARKER}`];

export interface S1Result {
  rows: Row[];
  /** Trace points of every measured minipod run, by network mode. */
  traces: { none: TracePoint[][]; bridge: TracePoint[][] };
  /** Wall time of the same runs (for the part after the last trace point). */
  totals: { none: number[]; bridge: number[] };
}

export async function scenarioOneContainer(ctx: Context): Promise<S1Result> {
  const { minipod: m } = ctx;
  const manifests = {
    none: writePod(m, 'mpb-s1-none', ctx.image, 'none', [{ name: 'c', command: S1_COMMAND }]),
    bridge: writePod(m, 'mpb-s1-bridge', ctx.image, 'bridge', [{ name: 'c', command: S1_COMMAND }]),
  };
  const tools: { id: string; tool: string; note?: string; once: (i: number) => Promise<Timed & { trace?: TracePoint[] }> }[] = [
    { id: 'minipod-none', tool: 'minipod run (network none)', once: () => runAttached(m, manifests.none, S1_MARKER) },
    { id: 'minipod-bridge', tool: 'minipod run (bridge, CNI)', once: () => runAttached(m, manifests.bridge, S1_MARKER) },
    { id: 'crun', tool: 'crun run (+ wrapper)', note: 'includes the unshare/umount wrapper', once: (i) => crunRun(ctx.bundles.s1, `mpb-crun-${i}`, S1_MARKER) },
    { id: 'runc', tool: 'runc run', once: (i) => runcRun(ctx.bundles.s1, `mpb-runc-${i}`, S1_MARKER) },
    { id: 'crun-wrapper', tool: 'crun wrapper alone', note: 'unshare -m + sh + umount, exec /bin/true', once: () => crunWrapper() },
    { id: 'spawn-floor', tool: 'spawn /bin/true from Node', note: "the harness's own floor", once: () => run('/bin/true', []) },
  ];
  const samples = new Map<string, number[]>(tools.map((t) => [t.id, []]));
  const traces: S1Result['traces'] = { none: [], bridge: [] };
  const totals: S1Result['totals'] = { none: [], bridge: [] };
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    for (const t of tools) {
      const r = await withRetry(ctx, `s1 ${t.id} round ${i}`, () => t.once(i));
      if (!measured) continue;
      samples.get(t.id)!.push(r.ms);
      if (r.trace && (t.id === 'minipod-none' || t.id === 'minipod-bridge')) {
        const mode = t.id === 'minipod-none' ? 'none' : 'bridge';
        traces[mode].push(r.trace);
        totals[mode].push(r.ms);
      }
    }
    ctx.log(`s1 ${measured ? `round ${i - ctx.warmup + 1}/${ctx.rounds}` : 'warm-up'}: ${tools.map((t) => `${t.id} ${samples.get(t.id)!.at(-1)?.toFixed(1) ?? '-'}`).join(', ')}`);
  }
  const rows: Row[] = tools.map((t) => ({
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
