/**
 * Scenarios 2 and 3 on the same 3-container pod (busybox `sleep`, each container prints its
 * marker first), default networking for both tools (minipod: CNI bridge; podman: netavark
 * bridge), grace period 0 on both sides.
 *
 * 2. up = until every container runs; down = until everything is removed.
 *    minipod: `run -d` / `rm -f` when this minipod has them; also attached `run` (up = state
 *    file shows all running, down = SIGTERM to the `minipod run` client until it exits), and
 *    `run -d` / `rm -f` on a daemon without warm pool (extra rows). minipod is measured warm:
 *    `daemon settle` (untimed) before its up, with a pause of the pool's burst gap after it
 *    (DaemonControl.quiet), before its down, and right after its down, before the next
 *    tool's timed run.
 *    podman: `pod create` + 3x `run -d`, `pod rm -f -t 0`.
 * 3. memory that stays per running pod, sampled after the pod has settled: for minipod the
 *    pod init (+ the attached client) plus the daemon's growth for the pod (./memory.ts);
 *    podman's conmons and infra (catatonit). Containers' own processes are left out on both
 *    sides. The daemon and its warm pool are fixed costs, reported apart.
 */
import { type Mem, ZERO_MEM, addMem, listProcs, readMem } from '../procfs.js';
import { summarize } from '../stats.js';
import { type Context, type MemorySample, type Row, withRetry } from '../types.js';
import { sleep } from '../exec.js';
import type { DaemonVariant } from '../tools/daemon.js';
import { type UpPod, expectMarkers, podDown, podUp, removeAllPods, writePod } from '../tools/minipod.js';
import { type PodmanPod, podmanDown, podmanExpectMarkers, podmanPodProcesses, podmanUp } from '../tools/podman.js';
import { daemonIdleMemory, minipodPerPod } from './memory.js';

const CONTAINERS = ['a', 'b', 'c'];

function containersFor(pod: string): { name: string; command: string[] }[] {
  return CONTAINERS.map((c) => ({ name: c, command: ['/bin/sh', '-c', `echo ${markerFor(pod, c)}; exec sleep 100000`] }));
}

function markerFor(pod: string, c: string): string {
  return `mpb-marker-${pod}-${c}`;
}

interface Variant {
  id: string;
  tool: string;
  note?: string;
  /** Scenario 3 samples this variant. */
  memory: boolean;
  /** Untimed, before the up (and the memory baseline, when sampling). */
  prepare(sampleMemory: boolean): Promise<void>;
  up(
    name: string,
  ): Promise<{ upMs: number; markers: () => Promise<void>; memory: () => Promise<MemorySample>; down: () => Promise<number> }>;
  /** Untimed, between up and down, and after down (before the next tool's timed run). */
  settle(): Promise<void>;
}

function minipodVariant(ctx: Context, detach: boolean, settleMs: number, daemon: DaemonVariant = 'default'): Variant {
  const m = ctx.minipod;
  let idle: Mem | undefined;
  const nopool = daemon === 'nopool';
  return {
    id: `${detach ? 'minipod-detached' : 'minipod-attached'}${nopool ? '-nopool' : ''}`,
    tool: `${detach ? 'minipod run -d / rm -f' : 'minipod run (attached) / SIGTERM'}${nopool ? ', pool disabled' : ''}`,
    note: nopool ? 'daemon started with MINIPOD_WARM_SANDBOXES=0' : 'warm daemon, pool full',
    memory: !nopool,
    async prepare(sampleMemory) {
      await ctx.daemon.use(daemon, nopool ? [detach ? 'detached' : 'bridge'] : ['bridge', 'detached']);
      if (!nopool) await ctx.daemon.quiet();
      idle = sampleMemory ? await daemonIdleMemory(ctx, `scenario 3, before pod ${detach ? 'detached' : 'attached'}`, settleMs) : undefined;
    },
    async up(name) {
      const manifest = writePod(m, name, ctx.image, 'bridge', containersFor(name));
      const pod: UpPod = await podUp(m, name, manifest, detach);
      return {
        upMs: pod.upMs,
        markers: () =>
          expectMarkers(
            m,
            pod,
            CONTAINERS.map((c) => markerFor(name, c)),
          ),
        memory: async () => {
          if (!idle) throw new Error('no daemon baseline');
          const clients = pod.attached?.child.pid ? [pod.attached.child.pid] : [];
          return minipodPerPod(ctx, detach ? 'minipod (detached)' : 'minipod (attached)', [name], idle, clients);
        },
        down: () => podDown(m, pod),
      };
    },
    settle: () => ctx.daemon.settle(),
  };
}

function podmanVariant(ctx: Context): Variant {
  const p = ctx.podman!;
  return {
    id: 'podman',
    tool: 'podman pod create + 3x run -d / pod rm -f -t 0',
    memory: true,
    prepare: async () => {},
    settle: async () => {},
    async up(name) {
      const pod: PodmanPod = await podmanUp(p, name, containersFor(name));
      return {
        upMs: pod.upMs,
        markers: () =>
          podmanExpectMarkers(
            p,
            pod,
            CONTAINERS.map((c) => markerFor(name, c)),
          ),
        memory: async () => {
          const procs = await podmanPodProcesses(p, pod);
          return sampleProcesses('podman', [...procs.conmon, ...procs.infra]);
        },
        down: () => podmanDown(p, pod),
      };
    },
  };
}

function sampleProcesses(tool: string, pids: number[]): MemorySample {
  const all = listProcs();
  const processes: MemorySample['processes'] = [];
  let total: Mem = ZERO_MEM;
  for (const pid of pids) {
    const mem = readMem(pid);
    if (!mem) continue;
    processes.push({ pid, comm: all.find((p) => p.pid === pid)?.comm ?? '?', ...mem });
    total = addMem(total, mem);
  }
  return { tool, ...total, processes };
}

export interface PodResult {
  rows: Row[];
  memory: MemorySample[];
}

/** Scenario 2 (and 3 when memoryRounds > 0: the first rounds also sample memory). */
export async function scenarioPod(ctx: Context, opts: { memoryRounds: number; settleMs: number }): Promise<PodResult> {
  const variants: Variant[] = [];
  if (ctx.minipod.detach) variants.push(minipodVariant(ctx, true, opts.settleMs));
  variants.push(minipodVariant(ctx, false, opts.settleMs));
  if (ctx.podman) variants.push(podmanVariant(ctx));
  // Last in the round: the daemon restarts for it, and again for the next round's first.
  variants.push(minipodVariant(ctx, ctx.minipod.detach, opts.settleMs, 'nopool'));
  const up = new Map<string, number[]>(variants.map((v) => [v.id, []]));
  const down = new Map<string, number[]>(variants.map((v) => [v.id, []]));
  const memory: MemorySample[] = [];
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    for (const v of variants) {
      const sampleMemory = v.memory && measured && i - ctx.warmup < opts.memoryRounds;
      let attempt = 0;
      const once = async (): Promise<{ upMs: number; downMs: number; mem?: MemorySample }> => {
        const name = `mpb-s2-${v.id.replace('minipod-', '')}-${i}${attempt++ > 0 ? 'r' : ''}`;
        await v.prepare(sampleMemory);
        const pod = await v.up(name);
        await pod.markers();
        let mem: MemorySample | undefined;
        if (sampleMemory) {
          // Let start-up garbage be collected and lazily touched pages settle, as a pod that
          // has been running a while would.
          await sleep(opts.settleMs);
          mem = await pod.memory();
        }
        await v.settle();
        const downMs = await pod.down();
        await v.settle();
        return { upMs: pod.upMs, downMs, mem };
      };
      const r = await withRetry(ctx, `s2 ${v.id} round ${i}`, once, () => removeAllPods(ctx.minipod));
      if (r.mem) memory.push(r.mem);
      if (measured) {
        up.get(v.id)!.push(r.upMs);
        down.get(v.id)!.push(r.downMs);
      }
    }
    ctx.log(
      `s2 ${measured ? `round ${i - ctx.warmup + 1}/${ctx.rounds}` : 'warm-up'}: ${variants.map((v) => `${v.id} up ${up.get(v.id)!.at(-1)?.toFixed(0) ?? '-'} down ${down.get(v.id)!.at(-1)?.toFixed(0) ?? '-'}`).join(', ')}`,
    );
  }
  const rows: Row[] = [];
  for (const [metric, data] of [
    ['up', up],
    ['down', down],
  ] as const) {
    for (const v of variants) {
      rows.push({
        scenario: `2. 3-container pod ${metric}`,
        id: `s2.${metric}.${v.id}`,
        tool: v.tool,
        metric,
        unit: 'ms',
        samples: data.get(v.id)!,
        summary: summarize(data.get(v.id)!),
        note: v.note,
      });
    }
  }
  for (const tool of new Set(memory.map((s) => s.tool))) {
    const of = memory.filter((s) => s.tool === tool);
    for (const k of ['pss', 'rss', 'uss'] as const) {
      rows.push({
        scenario: '3. memory per running pod',
        id: `s3.${k}.${tool.replace(/[^a-z]+/g, '-').replace(/-$/, '')}`,
        tool,
        metric: k.toUpperCase(),
        unit: 'kB',
        samples: of.map((s) => s[k]),
        summary: summarize(of.map((s) => s[k])),
      });
    }
  }
  return { rows, memory };
}
