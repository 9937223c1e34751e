/**
 * A container in which the kernel OOM-killed a process is killed as a whole and reported
 * `OOMKilled`, exit 137. Kubernetes 1.28+ on cgroup v2 sets memory.oom.group (the kernel kills
 * the whole cgroup itself); containerd reports OOMKilled whenever the kernel OOM-killed in the
 * container's cgroup, even a child while the main process lived on. cgroup v1 has no group
 * kill: containerd and runc's libcontainer register an eventfd on memory.oom_control through
 * cgroup.event_control and kill on notification. Node has no way to wait on an eventfd without
 * blocking a libuv pool thread per container, so minipod reads the same counter
 * (memory.oom_control `oom_kill`, memory.events `oom_kill` on v2) on a timer, one small read
 * per running container, and kills the container's cgroup when it moved.
 */

/** The exit to report: an OOM kill in the cgroup since the start makes it 137, OOMKilled. */
export function oomVerdict(exitCode: number, oomKillsSinceStart: number): { exitCode: number; oomKilled: boolean } {
  return oomKillsSinceStart > 0 ? { exitCode: 137, oomKilled: true } : { exitCode, oomKilled: false };
}

export interface OomWatchOptions {
  /** The cgroup's OOM kill counter now. */
  read(): number;
  /** The counter when the instance started. */
  baseline: number;
  /** Called once, the first time the counter is above the baseline. */
  onOomKill(kills: number): void;
  everyMs?: number;
}

export const OOM_POLL_MS = 250;

/** Polls the counter until it moves (then calls onOomKill once) or the returned stop is called. */
export function watchOomKills(o: OomWatchOptions): () => void {
  const timer = setInterval(() => {
    let kills: number;
    try {
      kills = o.read() - o.baseline;
    } catch {
      return; // the cgroup went with the pod
    }
    if (kills <= 0) return;
    clearInterval(timer);
    o.onOomKill(kills);
  }, o.everyMs ?? OOM_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
