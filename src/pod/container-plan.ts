/**
 * A container's plan for one start (src/plan/container.ts with what the host knows now: its
 * volumes, cgroups, the pod's IP, the host's devices for a privileged container, the env files
 * of fileKeyRefs), and its process record, which exec and probes read.
 */
import { UserError } from '../errors.js';
import type { ContainerSpec } from '../manifest/types.js';
import type { ContainerLayout } from '../paths.js';
import { planContainer } from '../plan/container.js';
import type { ContainerPlan, LsmLabel, SeccompFilter } from '../plan/types.js';
import { HelperFailed } from '../process/helper-client.js';
import { hostBoundingCapabilities } from '../process/host-capabilities.js';
import { listHostDevices } from '../rootfs/host-devices.js';
import { writeProcessRecord } from '../state/process-record.js';
import { readEnvFiles } from '../volumes/env-file.js';
import { containerHostDirs, isFileOnHost } from './container-files.js';
import type { RunnerPod } from './container-runner.js';

export interface StartInputs {
  image: { config: Parameters<typeof planContainer>[0]['image']; layers: string[] };
  seccomp?: SeccompFilter;
  lsmLabels?: LsmLabel[];
}

/**
 * The plan, written to the process record; or why the container cannot start: a fileKeyRef's
 * env file or key is missing or the file is not valid (kubelet's CreateContainerConfigError).
 */
export function planContainerStart(
  pod: RunnerPod,
  spec: ContainerSpec,
  layout: ContainerLayout,
  o: StartInputs,
): ContainerPlan | HelperFailed {
  let plan: ContainerPlan;
  try {
    plan = planContainer({
      pod: pod.spec,
      container: spec,
      image: o.image.config,
      dirs: containerHostDirs(pod.layout, layout, spec, o.image.layers, pod.volumes()),
      cgroupProcs: pod.cgroups.procsFiles(pod.spec.name, spec.name),
      isFile: isFileOnHost,
      seccomp: o.seccomp,
      lsmLabels: o.lsmLabels,
      cgroups: { mode: pod.cgroups.mode, dirs: pod.cgroups.paths(pod.spec.name, spec.name) },
      // Started after CNI ADD: status.podIP is known.
      downward: pod.downward(),
      hostCapabilities: hostBoundingCapabilities(),
      hostDevices: spec.securityContext.privileged ? listHostDevices() : undefined,
      envFiles: readEnvFiles(spec, pod.volumes().byName),
    });
  } catch (err) {
    if (err instanceof UserError) return new HelperFailed(err.message, 125);
    throw err;
  }
  // The record keeps the cgroups (exec joins them); a helper already in them skips the join.
  writeProcessRecord(layout, plan);
  return plan;
}
