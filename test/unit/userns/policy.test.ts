/** Who gets a user namespace, and the manifest rules of hostUsers. */
import { describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { hostUsernsDefault, usesUserNamespace } from '../../../src/userns/policy.js';

function pod(spec: Record<string, unknown> = {}, annotations?: Record<string, string>) {
  return parsePodManifest(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', annotations },
      spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
    }),
    { manifestDir: '/' },
  );
}
const refusal = (spec: Record<string, unknown>, annotations?: Record<string, string>): string => {
  try {
    pod(spec, annotations);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
};

describe('user namespace policy', () => {
  it('follows hostUsers, then the annotation, then MINIPOD_USERNS', () => {
    expect(usesUserNamespace(pod(), {})).toBe(false);
    expect(usesUserNamespace(pod({ hostUsers: false }), {})).toBe(true);
    expect(usesUserNamespace(pod({ hostUsers: true }), { MINIPOD_USERNS: 'auto' })).toBe(false);
    expect(usesUserNamespace(pod({}, { 'minipod.io/userns': 'auto' }), {})).toBe(true);
    expect(usesUserNamespace(pod({}, { 'minipod.io/userns': 'host' }), { MINIPOD_USERNS: 'auto' })).toBe(false);
    expect(usesUserNamespace(pod(), { MINIPOD_USERNS: 'auto' })).toBe(true);
  });

  it('auto leaves out pods that cannot have one', () => {
    expect(usesUserNamespace(pod({ hostNetwork: true }), { MINIPOD_USERNS: 'auto' })).toBe(false);
    expect(usesUserNamespace(pod({ shareProcessNamespace: false }), { MINIPOD_USERNS: 'auto' })).toBe(false);
    const big = pod({ containers: [{ name: 'c', image: 'i', securityContext: { runAsUser: 70000 } }] });
    expect(usesUserNamespace(big, { MINIPOD_USERNS: 'auto' })).toBe(false);
  });

  it('refuses a bad MINIPOD_USERNS', () => {
    expect(() => hostUsernsDefault({ MINIPOD_USERNS: 'yes' })).toThrow('MINIPOD_USERNS: "yes" is not one of auto, host');
  });

  it('refuses what hostUsers: false cannot do, naming the field', () => {
    expect(refusal({ hostUsers: false, hostNetwork: true })).toMatch(
      /^spec\.hostUsers: false cannot be combined with spec\.hostNetwork: true/,
    );
    expect(refusal({ hostUsers: false, shareProcessNamespace: false })).toMatch(
      /^spec\.shareProcessNamespace: false is not supported with spec\.hostUsers: false/,
    );
    expect(refusal({ hostUsers: false, containers: [{ name: 'c', image: 'i', securityContext: { runAsUser: 65536 } }] })).toMatch(
      /^spec\.containers\[0\]\.securityContext\.runAsUser: 65536 is outside the 65536 ids/,
    );
    expect(refusal({ hostUsers: 'no' })).toMatch(/^spec\.hostUsers/);
    expect(refusal({}, { 'minipod.io/userns': 'maybe' })).toMatch(/minipod\.io\/userns.*"maybe" is not one of auto, host/);
    expect(refusal({ hostUsers: true, hostNetwork: true })).toBe('accepted');
  });
});
