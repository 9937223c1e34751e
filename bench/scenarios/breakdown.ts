/**
 * Where minipod's start-to-exit time goes.
 *
 * 1. From MINIPOD_TRACE=1 (src/trace.ts): each traced step's share, as the delta from the
 *    previous trace point (the first step counts from the process's time origin, so it holds
 *    Node's boot and the module graph), and the rest up to the exit we observed (container
 *    runs and exits, teardown, process exit).
 * 2. Measured from outside, to split what the trace lumps together: a bare `node`, `minipod
 *    --version` (Node + the CLI's whole module graph), and a raw helper (spawnHelper +
 *    sendPlan of an exec plan running the host's /bin/true) with and without fresh pod
 *    namespaces: the cost of a container process without any rootfs, cgroup or network work.
 */
import { percentile, summarize } from '../stats.js';
import type { BreakdownStep, Context, Row } from '../types.js';
import { nowMs, run } from '../exec.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TracePoint } from '../tools/minipod.js';

/** Per-step medians over runs whose trace has the same steps (the first run's order). */
export function traceBreakdown(traces: TracePoint[][], totals: number[]): BreakdownStep[] {
  if (traces.length === 0 || traces[0]!.length === 0) return [];
  const steps = traces[0]!.map((p) => p.step);
  const deltas = new Map<string, number[]>(steps.map((s) => [s, []]));
  const rest: number[] = [];
  traces.forEach((t, i) => {
    if (t.length !== steps.length || t.some((p, k) => p.step !== steps[k])) return;
    let prev = 0;
    for (const p of t) {
      deltas.get(p.step)!.push(p.atMs - prev);
      prev = p.atMs;
    }
    rest.push(totals[i]! - prev);
  });
  const out: BreakdownStep[] = steps.map((s, k) => {
    const d = deltas.get(s)!;
    return { step: k === 0 ? `process start → ${s}` : `→ ${s}`, medianMs: percentile(d, 0.5), p10Ms: percentile(d, 0.1), p90Ms: percentile(d, 0.9) };
  });
  out.push({ step: '→ container ran and exited, teardown, process exit (outside the trace)', medianMs: percentile(rest, 0.5), p10Ms: percentile(rest, 0.1), p90Ms: percentile(rest, 0.9) });
  return out;
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
  return { spawnHelper: client.spawnHelper, sendPlan: client.sendPlan, spawnInNamespaces: ns.spawnInNamespaces, LinuxSyscall: linux.LinuxSyscall };
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
