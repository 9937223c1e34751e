/**
 * appArmorProfile and seLinuxOptions on a host that cannot enforce them: refused when the pod
 * starts, with one line naming the field, exit 125, and nothing created; Unconfined runs. Skipped
 * on hosts with AppArmor or SELinux enabled (the unit tests cover what is applied there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectHostLsm } from '../../src/lsm/host.js';
import { busyboxPod, isRoot, makeTestEnv, minipodSync, writeManifest, type TestEnv } from '../support/minipod.js';

const host = detectHostLsm();

describe.skipIf(!isRoot || host.appArmor || host.seLinux)('LSM fields on a host without AppArmor or SELinux (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('lsm')));
  afterAll(() => {
    if (t) minipodSync(t, ['rm', '-f', 'free', 'refused']);
    t?.cleanup();
  });

  const withSecurity = (name: string, securityContext: object, annotations: Record<string, string> = {}) => {
    const pod = busyboxPod(name, [['c', 'echo ran']], { metadata: { annotations: { 'minipod.io/network': 'none', ...annotations } } });
    (pod as { spec: { containers: { securityContext?: object }[] } }).spec.containers[0]!.securityContext = securityContext;
    return writeManifest(t, `${name}.json`, pod);
  };

  const refused: [string, string, object, Record<string, string>?][] = [
    [
      'appArmorProfile RuntimeDefault',
      'spec.containers[0].securityContext.appArmorProfile: RuntimeDefault cannot be enforced: AppArmor is not enabled on this host',
      { appArmorProfile: { type: 'RuntimeDefault' } },
    ],
    [
      'appArmorProfile Localhost',
      'spec.containers[0].securityContext.appArmorProfile: Localhost cannot be enforced: AppArmor is not enabled on this host',
      { appArmorProfile: { type: 'Localhost', localhostProfile: 'my-app' } },
    ],
    [
      'the apparmor annotation',
      'metadata.annotations["container.apparmor.security.beta.kubernetes.io/c"]: RuntimeDefault cannot be enforced',
      {},
      { 'container.apparmor.security.beta.kubernetes.io/c': 'runtime/default' },
    ],
    [
      'seLinuxOptions',
      'spec.containers[0].securityContext.seLinuxOptions: cannot be applied: SELinux is not enabled on this host',
      { seLinuxOptions: { type: 'container_t' } },
    ],
  ];
  it.each(refused)(
    'refuses %s with one line naming the field, exit 125, nothing created',
    (_what, message, securityContext, annotations) => {
      const r = minipodSync(t, ['run', withSecurity('refused', securityContext, annotations)]);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
      expect(minipodSync(t, ['ps', '-a']).stdout).not.toMatch(/refused/);
    },
  );

  it('runs a pod whose profile is Unconfined', () => {
    const r = minipodSync(t, [
      'run',
      withSecurity(
        'free',
        { appArmorProfile: { type: 'Unconfined' } },
        { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' },
      ),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ran/);
  });
});
