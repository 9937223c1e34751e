/** config.json `linux.seccomp` through minipod's seccomp compiler (src/seccomp: the OCI/Docker profile format). */
import { CAPABILITIES } from '../../../native-bindings/constants.js';
import { compileFilter } from '../../seccomp/compile.js';
import { parseProfile } from '../../seccomp/profile.js';
import { hostArch, kernelVersion, resolveProfile } from '../../seccomp/resolve.js';
import type { SeccompFilter } from '../../plan/types.js';
import os from 'node:os';

export function compileOciSeccomp(profile: unknown, bounding: readonly number[]): SeccompFilter {
  const parsed = parseProfile(JSON.stringify(profile));
  const spec = resolveProfile(
    parsed,
    bounding.map((b) => `CAP_${CAPABILITIES[b]}`),
    { ...hostArch(), kernel: kernelVersion(os.release()) },
  );
  return { profile: 'config.json', program: compileFilter(spec).toString('base64'), flags: spec.flags };
}
