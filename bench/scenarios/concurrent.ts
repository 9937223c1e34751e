/**
 * Scenario 4: N one-container pods (bridge networking, `sleep`) started at the same moment;
 * time until every one of them runs, then all removed at once. minipod uses `run -d` when it
 * has it (attached runs otherwise); podman runs `pod create && run -d` per pod in parallel.
 * minipod is measured warm: `daemon settle` (untimed) before its up, before its down and after
 * its down (before podman's timed round). While all N minipod pods run (first round), memory
 * per pod is sampled too: (daemon with N pods - daemon with none) / N + the average pod init
 * (./memory.ts).
 */
import { summarize } from '../stats.js';
import { type Context, type MemorySample, type Row, withRetry } from '../types.js';
import { nowMs, sleep } from '../exec.js';
import { type UpPod, expectMarkers, podDown, podUp, removeAllPods, writePod } from '../tools/minipod.js';
import { type PodmanPod, podmanDown, podmanExpectMarkers, podmanUp } from '../tools/podman.js';
import type { Mem } from '../procfs.js';
import { daemonIdleMemory, minipodPerPod } from './memory.js';

const marker = (pod: string): string => `mpb-marker-${pod}`;
const command = (pod: string): string[] => ['/bin/sh', '-c', `echo ${marker(pod)}; exec sleep 100000`];

export interface ConcurrentResult {
  rows: Row[];
  memory: MemorySample[];
}

export async function scenarioConcurrent(
  ctx: Context,
  opts: { pods: number; rounds: number; podman: boolean; settleMs: number },
): Promise<ConcurrentResult> {
  const up: Record<string, number[]> = { minipod: [], podman: [] };
  const down: Record<string, number[]> = { minipod: [], podman: [] };
  const memory: MemorySample[] = [];
  const names = (tool: string, round: number): string[] => Array.from({ length: opts.pods }, (_, k) => `mpb-s4-${tool}-${round}-${k}`);

  /** One round of one tool: all up, markers, (memory), all down. Pods that came up are always taken down. */
  const minipodRound = async (round: number, attempt: number): Promise<{ upMs: number; downMs: number }> => {
    const pods = names('mp', round).map((n) => (attempt > 0 ? `${n}r` : n));
    const manifests = pods.map((n) => writePod(ctx.minipod, n, ctx.image, 'bridge', [{ name: 'c', command: command(n) }]));
    await ctx.daemon.use('default', [ctx.minipod.detach ? 'detached' : 'bridge']);
    const sampleMemory = round === 0 && memory.length === 0;
    const idle: Mem | undefined = sampleMemory
      ? await daemonIdleMemory(ctx, `scenario 4, before ${opts.pods} pods`, opts.settleMs)
      : undefined;
    const t0 = nowMs();
    const settled = await Promise.allSettled(pods.map((n, k) => podUp(ctx.minipod, n, manifests[k]!, ctx.minipod.detach, 10)));
    const upMs = nowMs() - t0;
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    let guard: unknown = failed?.reason;
    if (!failed) {
      try {
        await Promise.all(ok.map((p: UpPod) => expectMarkers(ctx.minipod, p, [marker(p.name)])));
        if (idle) {
          await sleep(opts.settleMs);
          const clients = ok.flatMap((p) => (p.attached?.child.pid ? [p.attached.child.pid] : []));
          memory.push(
            await minipodPerPod(
              ctx,
              `minipod, ${opts.pods} pods running`,
              ok.map((p) => p.name),
              idle,
              clients,
            ),
          );
        }
        await ctx.daemon.settle();
      } catch (err) {
        guard = err;
      }
    }
    // Whatever came up goes down, also after a failure; a failed removal fails the round.
    const t1 = nowMs();
    const downs = await Promise.allSettled(ok.map((p) => podDown(ctx.minipod, p)));
    const downMs = nowMs() - t1;
    if (!guard) await ctx.daemon.settle();
    guard ??= downs.find((d): d is PromiseRejectedResult => d.status === 'rejected')?.reason;
    if (guard) throw guard;
    return { upMs, downMs };
  };

  const podmanRound = async (round: number, attempt: number): Promise<{ upMs: number; downMs: number }> => {
    const p = ctx.podman!;
    const pods = names('pm', round).map((n) => (attempt > 0 ? `${n}r` : n));
    const t0 = nowMs();
    const settled = await Promise.allSettled(pods.map((n) => podmanUp(p, n, [{ name: 'c', command: command(n) }])));
    const upMs = nowMs() - t0;
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    let guard: unknown = failed?.reason;
    if (!failed) {
      try {
        await Promise.all(ok.map((pod: PodmanPod) => podmanExpectMarkers(p, pod, [marker(pod.name)])));
      } catch (err) {
        guard = err;
      }
    }
    const t1 = nowMs();
    const downs = await Promise.allSettled(ok.map((pod) => podmanDown(p, pod)));
    const downMs = nowMs() - t1;
    guard ??= downs.find((d): d is PromiseRejectedResult => d.status === 'rejected')?.reason;
    if (guard) throw guard;
    return { upMs, downMs };
  };

  for (let round = 0; round < opts.rounds; round++) {
    const tools: [string, (round: number, attempt: number) => Promise<{ upMs: number; downMs: number }>][] = [['minipod', minipodRound]];
    if (opts.podman && ctx.podman) tools.push(['podman', podmanRound]);
    for (const [tool, once] of tools) {
      let attempt = 0;
      const r = await withRetry(
        ctx,
        `s4 ${tool} round ${round}`,
        () => once(round, attempt++),
        () => removeAllPods(ctx.minipod),
      );
      up[tool]!.push(r.upMs);
      down[tool]!.push(r.downMs);
      ctx.log(`s4 round ${round + 1}/${opts.rounds}: ${tool} ${opts.pods} pods up ${r.upMs.toFixed(0)} ms, down ${r.downMs.toFixed(0)} ms`);
    }
  }
  const rows: Row[] = [];
  for (const tool of ['minipod', 'podman']) {
    if (up[tool]!.length === 0) continue;
    for (const [metric, data] of [
      ['all running', up],
      ['all removed', down],
    ] as const) {
      rows.push({
        scenario: `4. ${opts.pods} pods at once, ${metric}`,
        id: `s4.${metric === 'all running' ? 'up' : 'down'}.${tool}`,
        tool:
          tool === 'minipod'
            ? ctx.minipod.detach
              ? 'minipod run -d / rm -f'
              : 'minipod run (attached)'
            : 'podman pod create + run -d / pod rm -f -t 0',
        metric,
        unit: 'ms',
        samples: data[tool]!,
        summary: summarize(data[tool]!),
      });
    }
  }
  return { rows, memory };
}
