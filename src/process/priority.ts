/**
 * CPU priority of the processes the warm pool boots ahead of need (and of a claimed one, back).
 *
 * A nice value alone does not do it on most Linux hosts: with the scheduler's autogroups
 * (CONFIG_SCHED_AUTOGROUP, on by default in Debian's kernels; /proc/sys/kernel/
 * sched_autogroup_enabled), every session is a group with its own share of the CPUs, and a
 * task's nice value only weighs against the tasks of its own session. Every pooled process is
 * a session of its own (a helper is spawned detached, conmon daemonizes with setsid), so at
 * nice 19 it still got as much CPU as the pod it was meant to yield to. The session's group has
 * a nice value of its own, /proc/<pid>/autogroup: both are set.
 */
import fs from 'node:fs';
import os from 'node:os';

/** Sets the nice value of `pid` (undefined: this process) and of its session's autogroup. */
export function setNice(pid: number | undefined, nice: number): void {
  try {
    os.setPriority(pid ?? 0, nice);
  } catch {
    // Gone: whoever waits for it finds out.
  }
  try {
    fs.writeFileSync(`/proc/${pid ?? 'self'}/autogroup`, String(nice));
  } catch {
    // No autogroups (the kernel has none, or they are off: the nice value is enough), or gone.
  }
}

/**
 * Gives a process booted in the background (nice 19) our priority back, from outside: a warm
 * pool's process that is claimed must not wait at nice 19 for its turn to read its plan while
 * the host is busy (a refill, the next pods) before it can raise its priority itself.
 */
export function toOurPriority(pid: number, withDescendants = false): void {
  setNice(pid, os.getPriority());
  if (withDescendants) for (const child of childrenOf(pid)) toOurPriority(child, true);
}

/** A process's children, from /proc/<pid>/task/<tid>/children (none once it is gone). */
function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}
