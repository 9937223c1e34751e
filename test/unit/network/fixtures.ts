import type { ContainerSpec, PodSpec } from '../../../src/manifest/types.js';

export function container(name: string, ports: ContainerSpec['ports'] = []): ContainerSpec {
  return {
    name,
    image: './rootfs',
    env: [],
    volumeMounts: [],
    resources: { limits: {}, requests: {} },
    securityContext: {
      readOnlyRootFilesystem: false,
      allowPrivilegeEscalation: true,
      privileged: false,
      capabilities: { add: [], drop: [] },
    },
    ports,
    stdin: false,
    tty: false,
  };
}

export function pod(overrides: Partial<PodSpec> = {}): PodSpec {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    name: 'web',
    labels: {},
    annotations: {},
    minipod: { network: 'bridge', swap: false },
    hostname: 'web',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    shareProcessNamespace: true,
    hostNetwork: false,
    dnsPolicy: 'ClusterFirst',
    hostAliases: [],
    securityContext: { fsGroupChangePolicy: 'Always', supplementalGroups: [], supplementalGroupsPolicy: 'Merge', sysctls: [] },
    initContainers: [],
    containers: [container('app')],
    volumes: [],
    manifestDir: '/tmp',
    ...overrides,
  };
}
