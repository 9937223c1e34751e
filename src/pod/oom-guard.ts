/**
 * The whole container goes when the kernel OOM-kills any process in it (src/cgroups/oom.ts):
 * on v2 memory.oom.group already made the kernel do it; on v1 this is what does. Any exit path
 * (the helper's, conmon's exit file, an adopted instance) starts it when the instance runs and
 * stops it at the exit, whose reason then comes from the same counter (oomVerdict).
 */
import type { CgroupManager } from '../cgroups/manager.js';
import { watchOomKills } from '../cgroups/oom.js';

export { oomVerdict } from '../cgroups/oom.js';

export interface OomGuardPod {
  readonly cgroups: CgroupManager;
  readonly output: { event(text: string): void };
}

/** Starts watching `container`'s OOM kill counter from `baseline`; returns the stop. */
export function guardOom(pod: OomGuardPod, podName: string, container: string, baseline: number, everyMs?: number): () => void {
  return watchOomKills({
    read: () => pod.cgroups.oomKillCount(podName, container),
    baseline,
    everyMs,
    onOomKill: () => {
      pod.output.event(`container ${container}: the kernel OOM-killed a process in it; killing the container`);
      pod.cgroups.killContainer(podName, container).catch((err: unknown) => {
        pod.output.event(`container ${container}: kill after the OOM kill: ${(err as Error).message}`);
      });
    },
  });
}
