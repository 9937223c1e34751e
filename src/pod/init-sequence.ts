/**
 * The init phase of a pod, as kubelet runs it: init containers one after another in manifest
 * order, each to success before the next starts (restarted with back-off on failure unless
 * the pod's restartPolicy is Never). A sidecar (an init container with restartPolicy Always,
 * Kubernetes 1.29+) is not waited for to finish: the next one starts as soon as it has
 * *started* (process running, postStart done, startup probe passed), and it keeps running,
 * restarting on its own, beside everything started after it.
 */
import type { ContainerKind } from './container-runner.js';

/** What the sequence needs of a container runner (ContainerRunner; a fake in unit tests). */
export interface InitStep {
  readonly kind: ContainerKind;
  readonly name: string;
  readonly restartPolicy: string;
  readonly exited?: Promise<number>;
  start(): Promise<void>;
  whenStarted(): Promise<void>;
  restart(exitCode: number): Promise<boolean>;
}

export interface InitSequenceHooks {
  stopping(): boolean;
  /** Resolves once the pod is finished (stopped, or failed): a wait for a sidecar ends there. */
  readonly done: Promise<unknown>;
  /** An init container failed for good (restartPolicy Never): the pod has failed. */
  failed(step: InitStep, exitCode: number): Promise<void>;
}

/** Resolves true once every init container succeeded and every sidecar started. */
export async function runInitSequence(steps: readonly InitStep[], hooks: InitSequenceHooks): Promise<boolean> {
  for (const step of steps) {
    if (step.kind === 'app') continue;
    await step.start();
    if (step.kind === 'sidecar') {
      // Its restarts go on meanwhile (the supervisor's exit handling); the pod may end instead.
      const started = await Promise.race([step.whenStarted().then(() => true), hooks.done.then(() => false)]);
      if (!started || hooks.stopping()) return false;
      continue;
    }
    for (;;) {
      const code = await step.exited!;
      if (hooks.stopping()) return false;
      if (code === 0) break;
      if (step.restartPolicy === 'Never') {
        await hooks.failed(step, code);
        return false;
      }
      if (!(await step.restart(code))) return false;
    }
  }
  return true;
}
