/**
 * Lifecycle hooks (postStart, preStop): one run of a handler with a deadline.
 * Kubernetes semantics the caller applies:
 * - postStart runs right after the container's process started; the container counts as
 *   running (and probes start) only once it succeeded; a failure kills the container
 *   (reason FailedPostStartHook) and the restart policy applies.
 * - preStop runs before SIGTERM when the container is stopped (not when it exits by itself);
 *   its time counts against terminationGracePeriodSeconds; SIGTERM follows whether it
 *   succeeded, failed or timed out.
 */
import type { Handler } from '../manifest/types.js';
import { actionRunner, type ProbeTarget } from './runners.js';
import { type ActionRunner, type ProbeResult, describeHandler } from './types.js';

export async function runHandler(handler: Handler, target: ProbeTarget | ActionRunner, timeoutMs: number): Promise<ProbeResult> {
  const run = typeof target === 'function' ? target : actionRunner(target);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(
      () => {
        controller.abort();
        resolve({ success: false, message: `${describeHandler(handler)} timed out after ${Math.round(timeoutMs / 100) / 10}s` });
      },
      Math.max(0, timeoutMs),
    );
  });
  try {
    const ran = run(handler, { timeoutMs, signal: controller.signal }).catch((err: unknown): ProbeResult => ({
      success: false,
      message: (err as Error)?.message ?? String(err),
    }));
    return await Promise.race([ran, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
