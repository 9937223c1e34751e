/**
 * Scenarios 2 and 3 on the same 3-container pod (busybox `sleep`, each container prints its
 * marker first), default networking for both tools (minipod: CNI bridge; podman: netavark
 * bridge), grace period 0 on both sides.
 *
 * 2. up = until every container runs; down = until everything is removed.
 *    minipod: `run -d` / `rm -f` when this minipod has them; also attached `run` (up = state
 *    file shows all running, down = SIGTERM to the run until it exits).
 *    podman: `pod create` + 3x `run -d`, `pod rm -f -t 0`.
 * 3. memory that stays per running pod, sampled after the pod has settled: minipod's
 *    supervisor, pod init and anything else below the supervisor that is not a container;
 *    podman's conmons and infra (catatonit). Containers' own processes are left out on both
 *    sides.
 */
import { type Mem, ZERO_MEM, addMem, descendants, listProcs, readMem } from '../procfs.js';
import { summarize } from '../stats.js';
import { type Context, type MemorySample, type Row, withRetry } from '../types.js';
import { sleep } from '../exec.js';
import { type UpPod, expectMarkers, podDown, podUp, readState, removeAllPods, writePod } from '../tools/minipod.js';
import { type PodmanPod, podmanDown, podmanExpectMarkers, podmanPodProcesses, podmanUp } from '../tools/podman.js';

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
  up(name: string): Promise<{ upMs: number; markers: () => Promise<void>; memory: () => Promise<MemorySample>; down: () => Promise<number> }>;
}

function minipodVariant(ctx: Context, detach: boolean): Variant {
  const m = ctx.minipod;
  return {
    id: detach ? 'minipod-detached' : 'minipod-attached',
    tool: detach ? 'minipod run -d / rm -f' : 'minipod run (attached) / SIGTERM',
    async up(name) {
      const manifest = writePod(m, name, ctx.image, 'bridge', containersFor(name));
      const pod: UpPod = await podUp(m, name, manifest, detach);
      return {
        upMs: pod.upMs,
        markers: () => expectMarkers(m, pod, CONTAINERS.map((c) => markerFor(name, c))),
        memory: async () => minipodMemory(ctx, pod, detach ? 'minipod (detached)' : 'minipod (attached)'),
        down: () => podDown(m, pod),
      };
    },
  };
}

function podmanVariant(ctx: Context): Variant {
  const p = ctx.podman!;
  return {
    id: 'podman',
    tool: 'podman pod create + 3x run -d / pod rm -f -t 0',
    async up(name) {
      const pod: PodmanPod = await podmanUp(p, name, containersFor(name));
      return {
        upMs: pod.upMs,
        markers: () => podmanExpectMarkers(p, pod, CONTAINERS.map((c) => markerFor(name, c))),
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

/** The supervisor and all below it, minus each container's process tree. */
export function minipodPodPids(ctx: Context, pod: string, supervisorPid: number | undefined): number[] {
  const state = readState(ctx.minipod, pod);
  const supervisor = supervisorPid ?? state?.supervisor?.pid;
  if (!supervisor) return [];
  const procs = listProcs();
  const containerPids = new Set<number>();
  for (const c of state?.containers ?? []) if (c.pid) for (const d of descendants(procs, c.pid)) containerPids.add(d.pid);
  const pids = descendants(procs, supervisor).map((p) => p.pid).filter((pid) => !containerPids.has(pid));
  if (state?.init?.pid && !pids.includes(state.init.pid)) pids.push(state.init.pid);
  return pids;
}

function minipodMemory(ctx: Context, pod: UpPod, tool: string): MemorySample {
  return sampleProcesses(tool, minipodPodPids(ctx, pod.name, pod.attached?.child.pid));
}

export interface PodResult {
  rows: Row[];
  memory: MemorySample[];
}

/** Scenario 2 (and 3 when memoryRounds > 0: the first rounds also sample memory). */
export async function scenarioPod(ctx: Context, opts: { memoryRounds: number; settleMs: number }): Promise<PodResult> {
  const variants: Variant[] = [];
  if (ctx.minipod.detach) variants.push(minipodVariant(ctx, true));
  variants.push(minipodVariant(ctx, false));
  if (ctx.podman) variants.push(podmanVariant(ctx));
  const up = new Map<string, number[]>(variants.map((v) => [v.id, []]));
  const down = new Map<string, number[]>(variants.map((v) => [v.id, []]));
  const memory: MemorySample[] = [];
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    const sampleMemory = measured && i - ctx.warmup < opts.memoryRounds;
    for (const v of variants) {
      let attempt = 0;
      const once = async (): Promise<{ upMs: number; downMs: number; mem?: MemorySample }> => {
        const name = `mpb-s2-${v.id.replace('minipod-', '')}-${i}${attempt++ > 0 ? 'r' : ''}`;
        const pod = await v.up(name);
        await pod.markers();
        let mem: MemorySample | undefined;
        if (sampleMemory) {
          // Let start-up garbage be collected and lazily touched pages settle, as a pod that
          // has been running a while would.
          await sleep(opts.settleMs);
          mem = await pod.memory();
        }
        return { upMs: pod.upMs, downMs: await pod.down(), mem };
      };
      const r = await withRetry(ctx, `s2 ${v.id} round ${i}`, once, () => removeAllPods(ctx.minipod));
      if (r.mem) memory.push(r.mem);
      if (measured) {
        up.get(v.id)!.push(r.upMs);
        down.get(v.id)!.push(r.downMs);
      }
    }
    ctx.log(`s2 ${measured ? `round ${i - ctx.warmup + 1}/${ctx.rounds}` : 'warm-up'}: ${variants.map((v) => `${v.id} up ${up.get(v.id)!.at(-1)?.toFixed(0) ?? '-'} down ${down.get(v.id)!.at(-1)?.toFixed(0) ?? '-'}`).join(', ')}`);
  }
  const rows: Row[] = [];
  for (const [metric, data] of [['up', up], ['down', down]] as const) {
    for (const v of variants) {
      rows.push({
        scenario: `2. 3-container pod ${metric}`,
        id: `s2.${metric}.${v.id}`,
        tool: v.tool,
        metric,
        unit: 'ms',
        samples: data.get(v.id)!,
        summary: summarize(data.get(v.id)!),
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
