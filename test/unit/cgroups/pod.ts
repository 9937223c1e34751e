/** Minimal normalised pods for the cgroup tests. */
import type { ContainerSpec, PodSpec, ResourceList } from '../../../src/manifest/types.js';

export function container(name: string, limits: ResourceList = {}, requests: ResourceList = {}): ContainerSpec {
  return {
    name,
    image: './rootfs',
    env: [],
    volumeMounts: [],
    resources: { limits, requests },
    securityContext: {
      readOnlyRootFilesystem: false,
      allowPrivilegeEscalation: true,
      privileged: false,
      capabilities: { add: [], drop: [] },
    },
    ports: [],
    stdin: false,
    tty: false,
  };
}

export function pod(containers: ContainerSpec[], extra: Partial<PodSpec> = {}): PodSpec {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    name: 'p',
    labels: {},
    annotations: {},
    minipod: { network: 'none', swap: false },
    hostname: 'p',
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 30,
    shareProcessNamespace: true,
    hostNetwork: false,
    dnsPolicy: 'Default',
    hostAliases: [],
    securityContext: { fsGroupChangePolicy: 'Always', supplementalGroups: [], supplementalGroupsPolicy: 'Merge', sysctls: [] },
    initContainers: [],
    containers,
    volumes: [],
    manifestDir: '/tmp',
    ...extra,
  };
}

export const Mi = 1024 * 1024;
