/** A container's recorded state as it starts and exits (what `ps` and `inspect` show). */
import type { ContainerState, HeldContainer, ProcessRef } from '../state/pod-state.js';

/** Before the first start (what `ps` shows while the pod is created). */
export function creatingState(name: string, image: string, kind: 'app' | 'init' | 'sidecar', logPath: string): ContainerState {
  return {
    name,
    init: kind !== 'app',
    ...(kind === 'sidecar' ? { sidecar: true } : {}),
    image,
    state: 'waiting',
    reason: 'ContainerCreating',
    restartCount: 0,
    ready: false,
    cgroupPaths: [],
    logPath,
  };
}

/** A new instance runs; without a readiness probe it is ready at once, as in Kubernetes. */
export function runningState(
  state: ContainerState,
  process: ProcessRef,
  startedAtMs: number,
  ready: boolean,
  held: HeldContainer | undefined,
): ContainerState {
  return {
    ...state,
    state: 'running',
    ready,
    started: false,
    reason: undefined,
    message: undefined,
    exitCode: undefined,
    pid: process.pid,
    startTime: process.startTime,
    startedAt: new Date(startedAtMs).toISOString(),
    finishedAt: undefined,
    held,
  };
}

export function terminatedState(
  state: ContainerState,
  exitCode: number,
  reason: string,
  message: string | undefined,
  finishedAtMs: number,
): ContainerState {
  return {
    ...state,
    state: 'terminated',
    ready: false,
    started: false,
    pid: undefined,
    startTime: undefined,
    held: undefined,
    exitCode,
    reason,
    message,
    finishedAt: new Date(finishedAtMs).toISOString(),
  };
}
