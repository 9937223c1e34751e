/**
 * Pure planning of the pod's PID 1 (catatonit in an empty tmpfs root): PodSpec -> PodInitPlan.
 * The supervisor sends it to the init helper; src/process/helper-main.ts carries it out.
 */
import type { PodSpec } from '../manifest/types.js';
import type { PodInitPlan } from './types.js';

/** Static init binaries we can run as the pod's PID 1, podman's choice first. */
export const INIT_BINARIES = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];

export interface PodInitInputs {
  pod: PodSpec;
  /** Empty host directory for the init's root (PodLayout.initRoot). */
  rootDir: string;
  /** The first of INIT_BINARIES present on the host. */
  initBinary: string;
  /** cgroup.procs files the init writes itself before exec; empty when it was moved from outside. */
  cgroupProcs: string[];
}

export function planPodInit(i: PodInitInputs): PodInitPlan {
  return {
    kind: 'pod-init',
    id: `${i.pod.name}/init`,
    rootDir: i.rootDir,
    initBinary: i.initBinary,
    // -P: catatonit reaps every orphan of the PID namespace, as PID 1 must.
    args: ['catatonit', '-P'],
    // A hostNetwork pod keeps the host's UTS namespace: its hostname is the host's.
    hostname: i.pod.hostNetwork ? undefined : i.pod.hostname,
    loopbackUp: !i.pod.hostNetwork,
    cgroupProcs: i.cgroupProcs,
  };
}
