/**
 * Probes and lifecycle hooks for the supervisor. Per container instance:
 *   const target = { paths, sys, pod, container };
 *   postStart: (await runHandler(spec.lifecycle.postStart, target, graceMs)).success or kill
 *   const probes = new ContainerProbes({ probes: spec, run: actionRunner(target),
 *     onReadyChange, onLivenessFailed, onStartupFailed });
 *   probes.start() once running; probes.stop() when it exits or the pod stops.
 *   preStop: await runHandler(spec.lifecycle.preStop, target, remainingGraceMs) before SIGTERM.
 */
export { ContainerProbes, type ContainerProbeSpecs, type ContainerProbesOptions, type ProbeCallbacks } from './container-probes.js';
export { runHandler } from './hooks.js';
export { actionRunner, networkRoute, type NetworkRoute, type ProbeTarget } from './runners.js';
export { type ActionRunner, describeHandler, type ProbeKind, type ProbeResult, realTimers, type Timers } from './types.js';
