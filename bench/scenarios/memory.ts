/**
 * Scenario 3's arithmetic for minipod, shared with scenario 4.
 *
 * One daemon supervises every pod, so a pod's own memory is
 *   (a) its processes that are not containers: the pod init (`catatonit -P`, state.init.pid),
 *       a conmon per container when conmon holds them (state.containers[].held),
 *       the `minipod run` client while an attached pod runs, and anything else below the
 *       daemon that is neither a container, nor a pooled helper, nor an init (normally none);
 *   (b) the daemon's growth per pod: the daemon's own smaps_rollup (that pid alone) with the
 *       pods running minus with no pod, divided by the number of pods.
 * Both samples are taken right after `minipod daemon settle`, so the warm pool (booted
 * helpers waiting for a pod: a fixed cost, not a per-pod one) has the same size in both and
 * is not in either; it is reported as a fixed cost with the daemon's own idle memory.
 */
import fs from 'node:fs';
import { type Mem, ZERO_MEM, addMem, descendants, listProcs, readMem } from '../procfs.js';
import type { Context, MemorySample } from '../types.js';
import { sleep } from '../exec.js';
import { readState } from '../tools/minipod.js';

/**
 * The daemon's memory with no pod; also records the fixed costs. Taken as the sample with pods
 * is: after `settleMs` (garbage of the last pods collected) and `daemon settle`.
 */
export async function daemonIdleMemory(ctx: Context, when: string, settleMs: number): Promise<Mem> {
  await sleep(settleMs);
  await ctx.daemon.settle();
  const status = await ctx.daemon.status();
  if ((status.pods?.length ?? 0) > 0) throw new Error(`daemon baseline: the daemon runs pods: ${status.pods!.join(', ')}`);
  const pid = ctx.daemon.pid!;
  const mem = readMem(pid);
  if (!mem) throw new Error(`daemon baseline: cannot read /proc/${pid}/smaps_rollup`);
  const variant = ctx.daemon.variant === 'nopool' ? 'pool disabled' : `pool of ${status.warm?.sandboxes ?? '?'} sandbox(es)`;
  ctx.fixed.push({ what: `minipod daemon, no pods (${variant})`, ...mem, processes: 1, when });
  // In conmon mode the pool also holds conmons (with their `minipod-oci create` and its helper),
  // which double-fork away from the daemon: counted here as in scenario 10's idle footprint.
  const helpers = ctx.daemon.poolHelpers();
  const conmonProcs = ctx.daemon.pooledConmonProcs();
  const comms = new Map(listProcs().map((p) => [p.pid, p.comm]));
  const nodeProcs = helpers.length + conmonProcs.filter((p) => comms.get(p) !== 'conmon').length;
  if (nodeProcs !== (status.warm?.helpers ?? 0)) {
    ctx.log(`warning: ${nodeProcs} pooled helper processes found, the daemon's status says ${status.warm?.helpers}`);
  }
  const pooled = [...helpers, ...conmonProcs];
  if (pooled.length > 0) {
    const sum = pooled.reduce((a, h) => addMem(a, readMem(h) ?? ZERO_MEM), ZERO_MEM);
    const what = conmonProcs.length > 0 ? 'pod-init helper + pooled conmons with their runtime create' : 'pod-init + container helpers';
    ctx.fixed.push({
      what: `warm pool (${status.warm?.sandboxes} sandbox(es): ${what})`,
      ...sum,
      processes: pooled.length,
      when,
    });
  }
  return mem;
}

function startTime(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return 0;
  }
}

const sub = (a: Mem, b: Mem): Mem => ({ rss: a.rss - b.rss, pss: a.pss - b.pss, uss: a.uss - b.uss });
const div = (a: Mem, n: number): Mem => ({ rss: a.rss / n, pss: a.pss / n, uss: a.uss / n });

/**
 * Per-pod memory with `pods` running, against the daemon's `idle` sample. `clients`: pids of
 * attached `minipod run` processes of these pods.
 */
export async function minipodPerPod(ctx: Context, tool: string, pods: string[], idle: Mem, clients: number[] = []): Promise<MemorySample> {
  await ctx.daemon.settle();
  const status = await ctx.daemon.status();
  const daemon = ctx.daemon.pid!;
  const now = readMem(daemon);
  if (!now) throw new Error(`cannot read /proc/${daemon}/smaps_rollup`);
  const n = pods.length;
  const procs = listProcs();
  const inits: number[] = [];
  const conmons: number[] = [];
  const containers = new Set<number>();
  for (const pod of pods) {
    const s = readState(ctx.minipod, pod);
    if (!s?.init?.pid) throw new Error(`pod ${pod}: no init pid in its state`);
    inits.push(s.init.pid);
    for (const c of s.containers) if (c.pid) for (const d of descendants(procs, c.pid)) containers.add(d.pid);
    for (const c of s.containers) if (c.held) conmons.push(c.held.conmon.pid);
  }
  // Below the daemon: the inits, the containers, the pool; anything else is counted as the pods'.
  const children = procs.filter((p) => p.ppid === daemon && !containers.has(p.pid) && !inits.includes(p.pid));
  const helpers = children.filter((p) => /helper-main\.js/.test(p.args));
  const others = children.filter((p) => !/helper-main\.js/.test(p.args)).map((p) => p.pid);
  // More helpers than the pool holds: the surplus belongs to the pods (the oldest ones: the
  // pool's were booted after the pods started).
  const surplus = helpers
    .map((h) => h.pid)
    .sort((a, b) => startTime(a) - startTime(b))
    .slice(0, Math.max(0, helpers.length - (status.warm?.helpers ?? 0)));
  if (surplus.length > 0) ctx.log(`memory: ${surplus.length} helper(s) beyond the pool below the daemon, counted per pod`);

  const parts: MemorySample['processes'] = [];
  const group = (comm: string, pids: number[]): void => {
    if (pids.length === 0) return;
    const sum = pids.reduce((a, p) => addMem(a, readMem(p) ?? ZERO_MEM), ZERO_MEM);
    parts.push({
      pid: pids.length === 1 ? pids[0]! : 0,
      comm: n === 1 ? comm : `${comm} (${pids.length} in all, per pod)`,
      ...div(sum, n),
    });
  };
  group('catatonit (pod init)', inits);
  group('conmon (one per container)', conmons);
  group('minipod run (attached client)', clients);
  group('other below the daemon', others);
  group('helper beyond the pool', surplus);
  parts.push({ pid: 0, comm: `daemon growth${n > 1 ? ` / ${n} pods` : ''}`, ...div(sub(now, idle), n) });
  const total = parts.reduce<Mem>((a, p) => addMem(a, p), ZERO_MEM);
  return { tool, ...total, processes: parts };
}
