/**
 * The pod path's contract (src/oci/config/from-plan.ts): a pod container's plan, written as
 * config.json and read back by the translator, is the same plan.
 */
import { describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { planContainer, type ContainerHostDirs } from '../../../src/plan/container.js';
import type { ContainerPlan } from '../../../src/plan/types.js';
import { ociConfigFromPlan } from '../../../src/oci/config/from-plan.js';
import { translateConfig } from '../../../src/oci/config/translate.js';

function podOf(container: object, extra: object = {}) {
  return parsePodManifest(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'img', ...container }], ...extra },
    }),
    { manifestDir: '/m' },
  );
}

const dirs: ContainerHostDirs = {
  lowerDirs: ['/img/2', '/img/1'],
  upperDir: '/u',
  workDir: '/w',
  mountPoint: '/r',
  etcHosts: '/h',
  etcHostname: '/hn',
  resolvConf: '/rc',
  shm: '/shm',
  volumes: { data: '/vol/data', conf: '/vol/conf' },
  subPaths: { 'conf/nginx.conf': '/vol/conf/nginx.conf' },
};

const shared = [
  { type: 'pid' as const, path: '/proc/42/ns/pid' },
  { type: 'network' as const, path: '/proc/42/ns/net' },
  { type: 'ipc' as const, path: '/proc/42/ns/ipc' },
  { type: 'uts' as const, path: '/proc/42/ns/uts' },
];

function roundTrip(plan: ContainerPlan): { back: ContainerPlan; config: ReturnType<typeof ociConfigFromPlan> } {
  const config = ociConfigFromPlan(plan, { namespaces: shared });
  // Through JSON, as the bundle's file carries it.
  const result = translateConfig(JSON.parse(JSON.stringify(config)), {
    id: 'conmon-id',
    bundle: '/bundles/x',
    cgroupVersion: 'v1',
    statKind: () => 'dir',
    compileSeccomp: () => {
      throw new Error('the pod path carries its compiled filter');
    },
  });
  expect(result.warnings).toEqual([]);
  expect(result.cgroup).toBeUndefined();
  expect(result.namespaces).toEqual([...shared, { type: 'mount' }, ...(plan.cgroupView?.namespace ? [{ type: 'cgroup' }] : [])]);
  return { back: result.container, config };
}

describe('ociConfigFromPlan, read back by translateConfig', () => {
  it('keeps a plain pod container', () => {
    const pod = podOf({ command: ['/bin/sh', '-c', 'echo hi'], env: [{ name: 'A', value: '1' }] });
    const plan = planContainer({
      pod,
      container: pod.containers[0]!,
      image: { workingDir: '/srv' },
      dirs,
      cgroupProcs: ['/cg/a/cgroup.procs', '/cg/b/cgroup.procs'],
      isFile: () => false,
    });
    const { back, config } = roundTrip(plan);
    expect(back).toEqual(plan);
    expect(config.root).toEqual({ path: '/r', readonly: false });
    expect(config.process!.capabilities!.bounding).toContain('CAP_CHOWN');
  });

  it('keeps volumes, file binds, a user, groups, ambient capabilities, the cgroup view, a filter and LSM labels', () => {
    const pod = podOf(
      {
        command: ['nginx'],
        volumeMounts: [
          { name: 'data', mountPath: '/data/cache', readOnly: true },
          { name: 'data', mountPath: '/data' },
          { name: 'conf', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf' },
        ],
        securityContext: { runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'] } },
      },
      {
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'conf', emptyDir: {} },
        ],
        securityContext: { supplementalGroups: [5, 6], fsGroup: 7 },
      },
    );
    const plan = planContainer({
      pod,
      container: pod.containers[0]!,
      image: { user: 'www' },
      dirs,
      cgroupProcs: [],
      isFile: (p) => p.endsWith('.conf'),
      seccomp: { profile: 'RuntimeDefault', program: 'AAAA', flags: 2 },
      lsmLabels: [{ module: 'apparmor', label: 'minipod-default' }],
      cgroups: { mode: 'hybrid', dirs: { memory: '/sys/fs/cgroup/memory/minipod/p/c', unified: '/sys/fs/cgroup/unified/minipod/p/c' } },
    });
    expect(roundTrip(plan).back).toEqual(plan);
  });

  it('keeps what only OCI configs set: rlimits, oom_score_adj, umask, propagation, non-recursive binds, device owners', () => {
    const pod = podOf({ command: ['true'] });
    const base = planContainer({ pod, container: pod.containers[0]!, image: {}, dirs, cgroupProcs: [], isFile: () => false });
    const plan: ContainerPlan = {
      ...base,
      rootfs: { ...base.rootfs, readOnly: true, propagation: ['REC', 'SLAVE'] },
      process: { ...base.process, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }], oomScoreAdj: 500, umask: 0o077 },
      devices: [...base.devices, { path: '/dev/fuse', major: 10, minor: 229, mode: 0o020000 | 0o600, uid: 1, gid: 2 }],
      mounts: [
        ...base.mounts,
        {
          source: '/x',
          destination: '/y',
          fstype: 'bind',
          flags: ['NOSUID'],
          destinationKind: 'dir',
          readOnly: true,
          nonRecursive: true,
          propagation: ['PRIVATE'],
        },
      ],
      inUserNamespace: true,
    };
    const { back } = roundTrip(plan);
    expect(back).toEqual(plan);
  });
});
