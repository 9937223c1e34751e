import { describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { planLsmLabels } from '../../../src/lsm/plan.js';
import type { HostLsm } from '../../../src/lsm/host.js';

function sc(securityContext: object, extra: { annotations?: object; podSecurity?: object } = {}) {
  const pod = parsePodManifest(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', annotations: extra.annotations ?? {} },
      spec: { securityContext: extra.podSecurity ?? {}, containers: [{ name: 'c', image: 'img', securityContext }] },
    }),
    { manifestDir: '/m' },
  );
  return pod.containers[0]!.securityContext;
}

const NONE: HostLsm = { appArmor: false, appArmorProfiles: [], seLinux: false };
const APPARMOR: HostLsm = { appArmor: true, appArmorProfiles: ['containers-default-0.50.1', 'my-app'], seLinux: false };
const SELINUX: HostLsm = {
  appArmor: false,
  appArmorProfiles: [],
  seLinux: true,
  seLinuxContext: 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023',
};

describe('planLsmLabels', () => {
  it('asks for nothing without the fields, and Unconfined needs no AppArmor', () => {
    expect(planLsmLabels(sc({}), NONE)).toEqual([]);
    expect(planLsmLabels(sc({ appArmorProfile: { type: 'Unconfined' } }), NONE)).toEqual([]);
  });

  it('refuses RuntimeDefault and Localhost on a host without AppArmor, naming the field (as the kubelet does)', () => {
    expect(() => planLsmLabels(sc({ appArmorProfile: { type: 'RuntimeDefault' } }), NONE)).toThrow(
      /^spec\.containers\[0\]\.securityContext\.appArmorProfile: RuntimeDefault cannot be enforced: AppArmor is not enabled on this host/,
    );
    expect(() => planLsmLabels(sc({}, { podSecurity: { appArmorProfile: { type: 'Localhost', localhostProfile: 'x' } } }), NONE)).toThrow(
      /^spec\.securityContext\.appArmorProfile: Localhost cannot be enforced/,
    );
    expect(() =>
      planLsmLabels(sc({}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'runtime/default' } }), NONE),
    ).toThrow(/^metadata\.annotations\["container\.apparmor\.security\.beta\.kubernetes\.io\/c"\]: RuntimeDefault cannot be enforced/);
  });

  it("with AppArmor: a loaded Localhost profile, a peer's default for RuntimeDefault, the container's field first", () => {
    expect(planLsmLabels(sc({ appArmorProfile: { type: 'Localhost', localhostProfile: 'my-app' } }), APPARMOR)).toEqual([
      { module: 'apparmor', label: 'my-app' },
    ]);
    expect(planLsmLabels(sc({ appArmorProfile: { type: 'RuntimeDefault' } }), APPARMOR)).toEqual([
      { module: 'apparmor', label: 'containers-default-0.50.1' },
    ]);
    expect(() => planLsmLabels(sc({ appArmorProfile: { type: 'Localhost', localhostProfile: 'nope' } }), APPARMOR)).toThrow(
      /"nope" is not loaded/,
    );
    const both = sc(
      { appArmorProfile: { type: 'Localhost', localhostProfile: 'my-app' } },
      { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' } },
    );
    expect(planLsmLabels(both, APPARMOR)).toEqual([{ module: 'apparmor', label: 'my-app' }]);
    // privileged: no profile, as podman does.
    expect(planLsmLabels(sc({ privileged: true, appArmorProfile: { type: 'RuntimeDefault' } }), NONE)).toEqual([]);
  });

  it('SELinux: refused without it; with it, the given parts replace those of our own context', () => {
    expect(() => planLsmLabels(sc({ seLinuxOptions: { type: 'container_t' } }), NONE)).toThrow(
      /^spec\.containers\[0\]\.securityContext\.seLinuxOptions: cannot be applied: SELinux is not enabled on this host/,
    );
    expect(planLsmLabels(sc({ seLinuxOptions: { type: 'container_t', level: 's0:c1,c2' } }), SELINUX)).toEqual([
      { module: 'selinux', label: 'unconfined_u:unconfined_r:container_t:s0:c1,c2' },
    ]);
    expect(planLsmLabels(sc({ seLinuxOptions: { role: 'system_r' } }), SELINUX)).toEqual([
      { module: 'selinux', label: 'unconfined_u:system_r:unconfined_t:s0-s0:c0.c1023' },
    ]);
  });
});
