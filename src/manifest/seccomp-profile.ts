/**
 * `securityContext.seccompProfile`, pod or container level (the container's wins), as
 * Kubernetes defines it: `type` RuntimeDefault, Unconfined or Localhost, and for Localhost a
 * `localhostProfile` path relative to minipod's seccomp directory (the kubelet's
 * `<root>/seccomp`). Unlike the kubelet, minipod's default when nothing is set is RuntimeDefault
 * (the kubelet's `--seccomp-default`). The file itself is read and compiled when the pod
 * starts, before anything exists (src/seccomp/plan.ts).
 */
import type { Fields, ObjectShape } from './reader.js';
import type { SeccompProfileRef } from './types.js';

export const SECCOMP_PROFILE_SHAPE: ObjectShape = { type: 'SeccompProfile', known: ['type', 'localhostProfile'] };

const TYPES = ['RuntimeDefault', 'Unconfined', 'Localhost'] as const;

/** Kubernetes' "local descending path": relative, and no `..` segment. */
function descendingPathProblem(p: string): string | undefined {
  if (p.startsWith('/')) return "must be a relative path (under minipod's seccomp directory)";
  if (p.split('/').includes('..')) return 'must not contain ".."';
  return undefined;
}

/** Decodes a seccompProfile object; `f` is undefined when the field is absent. */
export function decodeSeccompProfile(f: Fields | undefined): SeccompProfileRef | undefined {
  if (!f) return undefined;
  const type = f.required('type') === undefined ? undefined : f.enumOf('type', TYPES);
  const localhostProfile = f.optionalString('localhostProfile', 4096);
  if (type === 'Localhost') {
    if (localhostProfile === undefined) {
      f.issues.add(f.at('localhostProfile'), 'field is required when type is Localhost');
      return undefined;
    }
    const problem = descendingPathProblem(localhostProfile);
    if (problem) {
      f.issues.add(f.at('localhostProfile'), `"${localhostProfile}" ${problem}`);
      return undefined;
    }
    return { type, localhostProfile, field: f.path };
  }
  if (localhostProfile !== undefined && type !== undefined) {
    f.issues.add(f.at('localhostProfile'), 'can only be set when type is Localhost');
  }
  return type ? { type, field: f.path } : undefined;
}
