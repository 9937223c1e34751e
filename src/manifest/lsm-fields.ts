/**
 * The Linux security module fields of a securityContext, as Kubernetes defines them:
 * `appArmorProfile` (pod or container; type RuntimeDefault, Unconfined or Localhost with a
 * `localhostProfile` name), the older annotation
 * `container.apparmor.security.beta.kubernetes.io/<container>` (`runtime/default`,
 * `unconfined`, `localhost/<name>`), and `seLinuxOptions` (user, role, type, level). Whether
 * the host can honour them is decided when the pod starts (src/security/lsm.ts).
 */
import type { Fields, ObjectShape } from './reader.js';
import type { AppArmorProfileRef, SeLinuxOptionsRef } from './types.js';

export const APPARMOR_PROFILE_SHAPE: ObjectShape = { type: 'AppArmorProfile', known: ['type', 'localhostProfile'] };
export const SELINUX_OPTIONS_SHAPE: ObjectShape = { type: 'SELinuxOptions', known: ['user', 'role', 'type', 'level'] };
export const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

const TYPES = ['RuntimeDefault', 'Unconfined', 'Localhost'] as const;

export function decodeAppArmorProfile(f: Fields | undefined): AppArmorProfileRef | undefined {
  if (!f) return undefined;
  const type = f.required('type') === undefined ? undefined : f.enumOf('type', TYPES);
  const localhostProfile = f.optionalString('localhostProfile', 4096);
  if (type === 'Localhost') {
    if (localhostProfile === undefined || localhostProfile.trim() === '') {
      f.issues.add(f.at('localhostProfile'), 'field is required when type is Localhost');
      return undefined;
    }
    return { type, localhostProfile, field: f.path };
  }
  if (localhostProfile !== undefined && type !== undefined) {
    f.issues.add(f.at('localhostProfile'), 'can only be set when type is Localhost');
  }
  return type ? { type, field: f.path } : undefined;
}

/** The deprecated annotation's value, or an issue on the annotation. */
export function appArmorFromAnnotation(value: string, field: string, addIssue: (msg: string) => void): AppArmorProfileRef | undefined {
  if (value === 'runtime/default') return { type: 'RuntimeDefault', field };
  if (value === 'unconfined') return { type: 'Unconfined', field };
  if (value.startsWith('localhost/') && value.length > 'localhost/'.length) {
    return { type: 'Localhost', localhostProfile: value.slice('localhost/'.length), field };
  }
  addIssue(`"${value}" must be runtime/default, unconfined or localhost/<profile>`);
  return undefined;
}

export function decodeSeLinuxOptions(f: Fields | undefined): SeLinuxOptionsRef | undefined {
  if (!f) return undefined;
  const out: SeLinuxOptionsRef = { field: f.path };
  for (const key of ['user', 'role', 'type', 'level'] as const) {
    const v = f.optionalString(key, 256);
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}
