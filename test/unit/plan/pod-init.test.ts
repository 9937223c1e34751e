import { describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { planPodInit } from '../../../src/plan/pod-init.js';

function podOf(spec: object) {
  return parsePodManifest(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
    }),
    { manifestDir: '/m' },
  );
}

describe('planPodInit', () => {
  it('runs catatonit -P with the pod hostname and lo up in the pod namespaces', () => {
    expect(
      planPodInit({
        pod: podOf({}),
        rootDir: '/run/p/init-root',
        initBinary: '/usr/bin/catatonit',
        cgroupProcs: ['/cg/init/cgroup.procs'],
      }),
    ).toEqual({
      kind: 'pod-init',
      id: 'web/init',
      rootDir: '/run/p/init-root',
      initBinary: '/usr/bin/catatonit',
      args: ['catatonit', '-P'],
      hostname: 'web',
      loopbackUp: true,
      cgroupProcs: ['/cg/init/cgroup.procs'],
    });
  });

  it('leaves hostname and lo alone for a hostNetwork pod (the host owns them)', () => {
    const plan = planPodInit({ pod: podOf({ hostNetwork: true }), rootDir: '/r', initBinary: '/b', cgroupProcs: [] });
    expect(plan.hostname).toBeUndefined();
    expect(plan.loopbackUp).toBe(false);
  });
});
