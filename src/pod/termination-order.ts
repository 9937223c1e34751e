/**
 * The order a pod's containers stop in, as kubelet does it since sidecars (Kubernetes 1.29+):
 * first every container that is not a sidecar (app containers, and an init container still
 * running), all at once; then the sidecars one at a time in the reverse order of their start,
 * each only once everything started after it has exited, so a proxy or log shipper outlives
 * the containers that use it. preStop hooks and the stop signal follow that order; the whole
 * sequence shares one deadline (terminationGracePeriodSeconds), after which everything left is
 * killed.
 */
import type { ContainerKind } from './container-runner.js';

export interface Stoppable {
  readonly kind: ContainerKind;
  readonly name: string;
  /** A process runs now. */
  isRunning(): boolean;
  stopProbes(): void;
  /** preStop (when runHook), then the stop signal. */
  preStopThenSignal(deadline: number, runHook: boolean): Promise<void>;
  /** Resolves when the current instance exits. */
  readonly exited?: Promise<number>;
}

/** Groups to stop one after another: the non-sidecars together, then each sidecar, last first. */
export function terminationOrder<T extends { kind: ContainerKind }>(containers: readonly T[]): T[][] {
  const others = containers.filter((c) => c.kind !== 'sidecar');
  const sidecars = containers.filter((c) => c.kind === 'sidecar').reverse();
  return [...(others.length > 0 ? [others] : []), ...sidecars.map((s) => [s])];
}

/**
 * Stops the groups in order within the deadline. Returns true when everything exited in time;
 * false when the deadline passed (the caller kills what is left).
 */
export async function stopInOrder(
  groups: readonly (readonly Stoppable[])[],
  deadline: number,
  runHooks: boolean,
  now: () => number = Date.now,
): Promise<boolean> {
  for (const group of groups) {
    const running = group.filter((c) => c.isRunning());
    if (running.length === 0) continue;
    for (const c of running) c.stopProbes();
    // preStop hooks of one group run in parallel; their time counts against the deadline.
    const exits = Promise.all(running.map((c) => c.exited));
    const signalled = Promise.all(running.map((c) => c.preStopThenSignal(deadline, runHooks)));
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      signalled.then(() => exits).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - now())))),
    ]);
    clearTimeout(timer);
    if (!inTime) return false;
  }
  return true;
}

/** SIGKILL to every container (and helper waiting for a plan): a second stop, or the deadline. */
export function killNow(containers: readonly { killNow(): void }[]): void {
  for (const c of containers) c.killNow();
}

/** killNow, then the exits of what was running. */
export async function killAndWait(containers: readonly (Stoppable & { killNow(): void })[]): Promise<void> {
  const running = containers.filter((c) => c.isRunning());
  killNow(containers);
  await Promise.all(running.map((c) => c.exited));
}
