/**
 * Where minipod's start-to-exit time goes.
 *
 * 1. From MINIPOD_TRACE=1 (src/trace.ts): each traced step's share, as the delta from the
 *    previous trace point (the first step counts from the `minipod run` client's time origin,
 *    so it holds Node's boot and the client's module graph), and the rest up to the exit we
 *    observed. The daemon's steps arrive on the client's clock (the client maps them). Steps
 *    of each container (`container c plan sent`) are named without the container and
 *    consecutive ones merged (`container(s) plan sent` = until the last container's), so pods
 *    with any containers compare; steps the bench does not know are shown as they come. Runs
 *    whose step sequence differs from the most common one (async steps can swap places) are
 *    left out, and their number reported.
 * 2. Measured from outside, to split what the trace lumps together: a bare `node`, `minipod
 *    --version` (Node + the CLI's whole module graph), and a raw helper (spawnHelper +
 *    sendPlan of an exec plan running the host's /bin/true) with and without fresh pod
 *    namespaces: the cost of a container process without any rootfs, cgroup or network work.
 */
import { percentile, summarize } from '../stats.js';
import type { Breakdown, BreakdownStep, Context, Row } from '../types.js';
import { nowMs, run } from '../exec.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TracePoint } from '../tools/minipod.js';

/** `container web exec'd` -> `container(s) exec'd`; other steps unchanged. */
export function normalizeStep(step: string): string {
  const m = /^container (\S+) (.+)$/.exec(step);
  return m ? `container(s) ${m[2]}` : step;
}

/** Normalized steps; of a run of equal consecutive steps only the last point is kept. */
export function collapseTrace(trace: TracePoint[]): TracePoint[] {
  const out: TracePoint[] = [];
  for (const p of trace) {
    const step = normalizeStep(p.step);
    if (out.at(-1)?.step === step) out[out.length - 1] = { atMs: p.atMs, step };
    else out.push({ atMs: p.atMs, step });
  }
  return out;
}

/** Per-step medians over the runs that have the most common step sequence. */
export function traceBreakdown(traces: TracePoint[][], totals: number[]): { steps: BreakdownStep[]; used: number } {
  const collapsed = traces.map(collapseTrace);
  const key = (t: TracePoint[]): string => t.map((p) => p.step).join('\n');
  const counts = new Map<string, number>();
  for (const t of collapsed) if (t.length > 0) counts.set(key(t), (counts.get(key(t)) ?? 0) + 1);
  if (counts.size === 0) return { steps: [], used: 0 };
  // The most common sequence; on a tie the one seen first.
  const best = [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const steps = best.split('\n');
  const deltas: number[][] = steps.map(() => []);
  const rest: number[] = [];
  collapsed.forEach((t, i) => {
    if (key(t) !== best) return;
    let prev = 0;
    t.forEach((p, k) => {
      deltas[k]!.push(p.atMs - prev);
      prev = p.atMs;
    });
    rest.push(totals[i]! - prev);
  });
  const row = (step: string, d: number[]): BreakdownStep => ({
    step,
    medianMs: percentile(d, 0.5),
    p10Ms: percentile(d, 0.1),
    p90Ms: percentile(d, 0.9),
  });
  const out = steps.map((s, k) => row(k === 0 ? `client process start → ${s}` : `→ ${s}`, deltas[k]!));
  const last = steps.at(-1)!;
  const tail = last.startsWith('teardown:')
    ? '→ client exit (after the last trace point)'
    : '→ container ran and exited, teardown, client exit (after the last trace point)';
  out.push(row(tail, rest));
  return { steps: out, used: rest.length };
}

/** The breakdown of one row, with its title and how many runs it rests on. */
export function rowBreakdown(id: string, title: string, traces: TracePoint[][], totals: number[]): Breakdown {
  const b = traceBreakdown(traces, totals);
  return { id, title, runs: traces.length, used: b.used, steps: b.steps };
}

interface HelperModules {
  spawnHelper: typeof import('../../src/process/helper-client.js').spawnHelper;
  sendPlan: typeof import('../../src/process/helper-client.js').sendPlan;
  spawnInNamespaces: typeof import('../../src/namespaces/pod-namespaces.js').spawnInNamespaces;
  LinuxSyscall: typeof import('../../src/syscall/linux.js').LinuxSyscall;
}

/** Loaded lazily: src/ changes under us, and a broken import should cost only this row. */
async function loadHelperModules(dist: string): Promise<HelperModules> {
  // From the bench's frozen copy of the build, like every other minipod number.
  const load = (rel: string): Promise<unknown> => import(pathToFileURL(path.join(dist, rel)).href);
  const client = (await load('src/process/helper-client.js')) as typeof import('../../src/process/helper-client.js');
  const ns = (await load('src/namespaces/pod-namespaces.js')) as typeof import('../../src/namespaces/pod-namespaces.js');
  const linux = (await load('src/syscall/linux.js')) as typeof import('../../src/syscall/linux.js');
  return {
    spawnHelper: client.spawnHelper,
    sendPlan: client.sendPlan,
    spawnInNamespaces: ns.spawnInNamespaces,
    LinuxSyscall: linux.LinuxSyscall,
  };
}

/** One raw helper: spawn, send an exec plan for /bin/true in the host's mount namespace. */
async function rawHelper(mods: HelperModules, fresh: boolean): Promise<{ execMs: number; exitMs: number }> {
  const plan = {
    kind: 'exec' as const,
    id: 'bench/raw-helper',
    mountNamespace: '/proc/self/ns/mnt',
    process: {
      args: ['/bin/true'],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      user: { uid: 0, gid: 0 },
      capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
      noNewPrivileges: false,
    },
    cgroupProcs: [],
  };
  const t0 = nowMs();
  const helper = fresh
    ? mods.spawnInNamespaces(new mods.LinuxSyscall(), { create: ['pid', 'ipc', 'net', 'uts'], join: null }, () => mods.spawnHelper())
    : mods.spawnHelper();
  const exited = new Promise<number>((resolve) => helper.child.on('exit', (code) => resolve(code ?? -1)));
  await mods.sendPlan(helper, plan);
  const execMs = nowMs() - t0;
  const code = await exited;
  if (code !== 0) throw new Error(`raw helper: /bin/true exited ${code}`);
  return { execMs, exitMs: nowMs() - t0 };
}

export async function outsideMeasures(ctx: Context): Promise<Row[]> {
  const scenario = 'breakdown: measured from outside';
  // Nothing of the daemon's booting in the background while these run.
  await ctx.daemon.use('default', []);
  const samples: Record<string, number[]> = {
    node: [],
    nodeInherited: [],
    version: [],
    helperExec: [],
    helperExit: [],
    helperNsExec: [],
    helperNsExit: [],
  };
  let mods: HelperModules | undefined;
  let helperError: string | undefined;
  try {
    mods = await loadHelperModules(ctx.minipod.dist);
  } catch (err) {
    helperError = (err as Error).message;
  }
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    const node = await run(process.execPath, ['-e', '0'], { env: ctx.minipod.env });
    if (process.env.NODE_EXTRA_CA_CERTS) {
      const inherited = await run(process.execPath, ['-e', '0']);
      if (measured) samples.nodeInherited!.push(inherited.ms);
    }
    const version = await run(ctx.minipod.bin, ['--version'], { env: ctx.minipod.env });
    if (measured) {
      samples.node!.push(node.ms);
      samples.version!.push(version.ms);
    }
    if (mods && !helperError) {
      try {
        const a = await rawHelper(mods, false);
        const b = await rawHelper(mods, true);
        if (measured) {
          samples.helperExec!.push(a.execMs);
          samples.helperExit!.push(a.exitMs);
          samples.helperNsExec!.push(b.execMs);
          samples.helperNsExit!.push(b.exitMs);
        }
      } catch (err) {
        helperError = (err as Error).message;
      }
    }
  }
  if (helperError) ctx.log(`breakdown: raw helper not measured: ${helperError}`);
  const row = (id: string, tool: string, key: string, note?: string): Row => ({
    scenario,
    id: `bd.${id}`,
    tool,
    metric: 'wall time',
    unit: 'ms',
    samples: samples[key]!,
    summary: summarize(samples[key]!),
    note,
  });
  return [
    row('node', '`node -e 0`', 'node', 'Node boot alone (environment as minipod gets it)'),
    row('node-inherited', '`node -e 0` with NODE_EXTRA_CA_CERTS', 'nodeInherited', "the bench's own environment: not used for minipod"),
    row('version', '`minipod --version`', 'version', 'Node + the CLI module graph (koffi, commander, yaml, ...)'),
    row('helper-exec', 'raw helper → exec /bin/true', 'helperExec', 'spawnHelper + sendPlan, no namespaces, until execve'),
    row('helper-exit', 'raw helper → /bin/true exited', 'helperExit', 'same, until the process exited'),
    row('helper-ns-exec', 'raw helper in new pid/net/ipc/uts → exec', 'helperNsExec', 'spawnInNamespaces + spawnHelper + sendPlan'),
    row('helper-ns-exit', 'raw helper in new pid/net/ipc/uts → exited', 'helperNsExit', 'same, until the process exited'),
  ].filter((r) => r.samples.length > 0);
}
