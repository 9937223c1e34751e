/**
 * Kubernetes' restart rules as pure functions: whether a container that exited runs again,
 * after how long, and what `run` exits with when the pod is done.
 */
import type { RestartPolicy } from '../manifest/types.js';
import { exitStatus } from '../process/exit-status.js';

/** kubelet's back-off: 10 s doubling to 5 min, reset once a container ran 10 min. */
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
export const BACKOFF_RESET_AFTER_MS = 600_000;

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/**
 * Delay before the next start, given how many back-offs in a row already happened.
 * `consecutive` is 0 for the first restart.
 */
export function backoffDelay(consecutive: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(consecutive, 10));
}

/** A container that ran long enough starts its back-off from the beginning again. */
export function nextBackoffCount(previous: number, ranForMs: number): number {
  return ranForMs >= BACKOFF_RESET_AFTER_MS ? 0 : previous + 1;
}

export interface FinishedContainer {
  name: string;
  exitCode: number;
  finishedAt: number;
}

/**
 * `run`'s exit status: 0 when every container succeeded, else the exit code of the first
 * container that failed (by the time it finished). Only each container's last exit counts: a
 * run that failed and was restarted (OnFailure) is superseded by the run after it, as the pod
 * phase in Kubernetes looks at the containers' final state.
 */
export function podExitCode(finished: FinishedContainer[]): number {
  const last = new Map<string, FinishedContainer>();
  for (const c of finished) {
    const seen = last.get(c.name);
    if (!seen || c.finishedAt >= seen.finishedAt) last.set(c.name, c);
  }
  const failed = [...last.values()].filter((c) => c.exitCode !== 0).sort((a, b) => a.finishedAt - b.finishedAt);
  return failed[0]?.exitCode ?? 0;
}

/** Exit code of a process killed by a signal, as shells and kubelet report it. */
export function signalExitCode(signal: NodeJS.Signals | null, code: number | null): number {
  return exitStatus(code, signal);
}

/**
 * The one back-off rule for every container that starts again (init, app, and restartable
 * init containers alike): the count grows with each quick failure and drops back to zero after
 * a long run, and a zero count restarts at once.
 */
export function nextRestart(previousBackoffs: number, ranForMs: number): { backoffs: number; delayMs: number } {
  const backoffs = nextBackoffCount(previousBackoffs, ranForMs);
  return { backoffs, delayMs: backoffs === 0 ? 0 : backoffDelay(backoffs - 1) };
}
