/**
 * Which filter each container of a pod gets, compiled, before anything of the pod exists: a
 * missing or broken Localhost profile is the user's mistake, reported as one line naming the
 * manifest field (exit 125).
 *
 * `privileged: true` means no filter (as Docker, containerd and CRI-O do), and so does
 * `Unconfined`. Every other container gets its profile compiled for its own capabilities (the
 * profile's includes/excludes depend on them). Compiled programs are cached by their inputs:
 * the daemon starts many pods with the same profile.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CAPABILITIES } from '../../native-bindings/constants.js';
import { UserError } from '../errors.js';
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import { oneLine } from '../manifest/issues.js';
import type { SeccompFilter } from '../plan/types.js';
import { CompileError, compileFilter } from './compile.js';
import { DEFAULT_PROFILE } from './default-profile.js';
import { parseProfile, ProfileError, type SeccompProfile } from './profile.js';
import { type FilterSpec, type HostFacts, hostArch, kernelVersion, resolveProfile } from './resolve.js';

/** A profile is a few KB; this bounds what a hostile or mistaken file can make us read. */
const MAX_PROFILE_BYTES = 4 * 1024 * 1024;
/** BPF_MAXINSNS: the kernel refuses longer programs. */
const MAX_INSTRUCTIONS = 4096;

export interface SeccompPlanner {
  /** Directory Localhost profiles are relative to: `<lib dir>/seccomp`. */
  profileDir: string;
  host?: HostFacts;
  /** Reads a profile file (tests pass a fake). */
  readFile?: (file: string) => string;
  compile?: (spec: FilterSpec) => Buffer;
}

function readProfileFile(file: string): string {
  const st = fs.statSync(file);
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
  if (st.size > MAX_PROFILE_BYTES) throw Object.assign(new Error(`larger than ${MAX_PROFILE_BYTES} bytes`), { code: 'EFBIG' });
  return fs.readFileSync(file, 'utf8');
}

let defaultHost: HostFacts | undefined;
function hostFacts(): HostFacts {
  defaultHost ??= { ...hostArch(), kernel: kernelVersion(os.release()) };
  return defaultHost;
}

const programCache = new Map<string, string>();

function compileCached(spec: FilterSpec, compile: (spec: FilterSpec) => Buffer): string {
  const key = JSON.stringify(spec);
  let program = programCache.get(key);
  if (program === undefined) {
    const bpf = compile(spec);
    if (bpf.length / 8 > MAX_INSTRUCTIONS) {
      throw new CompileError(`the compiled filter has ${bpf.length / 8} instructions; the kernel takes at most ${MAX_INSTRUCTIONS}`);
    }
    program = bpf.toString('base64');
    if (programCache.size > 64) programCache.clear();
    programCache.set(key, program);
  }
  return program;
}

/** The CAP_ names of a container's bounding set (bits from src/plan/container.ts). */
export function capabilityNames(bits: readonly number[]): string[] {
  return bits.map((b) => `CAP_${CAPABILITIES[b]}`);
}

function loadLocalhost(container: ContainerSpec, planner: SeccompPlanner): { profile: SeccompProfile; name: string } {
  const ref = container.securityContext.seccompProfile;
  const rel = ref.localhostProfile!;
  const field = `${ref.field}.localhostProfile`;
  const file = path.join(planner.profileDir, rel);
  // The manifest check refused `..` and absolute paths; this keeps the promise if that changes.
  if (path.relative(planner.profileDir, file).startsWith('..')) {
    throw new UserError(`${field}: "${rel}" is outside ${planner.profileDir}`, { code: 'seccomp.profile' });
  }
  let text: string;
  try {
    text = (planner.readFile ?? readProfileFile)(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.message;
    throw new UserError(oneLine(`${field}: ${file}: ${why}`), { code: 'seccomp.profile' });
  }
  try {
    return { profile: parseProfile(text), name: `Localhost/${rel}` };
  } catch (err) {
    if (err instanceof ProfileError) throw new UserError(oneLine(`${field}: ${file}: ${err.message}`), { code: 'seccomp.profile' });
    throw err;
  }
}

/**
 * The filter of one container, or undefined for none. `capabilities` is the container's
 * bounding set as bits.
 */
export function planContainerSeccomp(
  container: ContainerSpec,
  capabilities: readonly number[],
  planner: SeccompPlanner,
): SeccompFilter | undefined {
  const ref = container.securityContext.seccompProfile;
  // Read and check a Localhost file even when it will not be used: a wrong path is never silent.
  const chosen = ref.type === 'Localhost' ? loadLocalhost(container, planner) : { profile: DEFAULT_PROFILE, name: 'RuntimeDefault' };
  if (ref.type === 'Unconfined' || container.securityContext.privileged) return undefined;
  const spec = resolveProfile(chosen.profile, capabilityNames(capabilities), planner.host ?? hostFacts());
  try {
    return { profile: chosen.name, program: compileCached(spec, planner.compile ?? compileFilter), flags: spec.flags };
  } catch (err) {
    if (!(err instanceof CompileError)) throw err;
    const where = ref.type === 'Localhost' ? `${ref.field}.localhostProfile` : ref.field;
    throw new UserError(oneLine(`${where}: ${chosen.name}: ${err.message}`), { code: 'seccomp.profile' });
  }
}

/** Every container's filter by name, or the first problem as a UserError. */
export function planPodSeccomp(
  pod: PodSpec,
  capabilitiesOf: (c: ContainerSpec) => number[],
  planner: SeccompPlanner,
): Map<string, SeccompFilter | undefined> {
  const out = new Map<string, SeccompFilter | undefined>();
  for (const c of [...pod.initContainers, ...pod.containers]) out.set(c.name, planContainerSeccomp(c, capabilitiesOf(c), planner));
  return out;
}
