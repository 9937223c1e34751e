/**
 * The OCI/Docker seccomp profile format, read from untrusted JSON into typed data (pure).
 *
 * It is the format of runc's `linux.seccomp`, of Docker's `--security-opt seccomp=FILE` and of
 * containers-common's /usr/share/containers/seccomp.json: `defaultAction`, `defaultErrnoRet`,
 * `architectures` or Docker's `archMap`, `flags`, and `syscalls[]` rules with `names`, `action`,
 * `errnoRet`, `args` and Docker's `includes`/`excludes` (caps, arches, minKernel). podman's
 * `errno`/`defaultErrno` names and `comment`s are read too. Unknown keys are errors: a field we
 * would ignore could be one that was meant to deny something.
 */
import { Issues } from '../manifest/issues.js';
import { Fields, type ObjectShape } from '../manifest/reader.js';

export const ACTIONS = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_LOG',
] as const;
export type ProfileAction = (typeof ACTIONS)[number];

export const OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;
export type ProfileOperator = (typeof OPERATORS)[number];

/** Filter flags seccomp(2) takes that make sense for a container (runc's list, minus TSYNC). */
export const FILTER_FLAGS = ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] as const;
export type FilterFlag = (typeof FILTER_FLAGS)[number];

/** The errno names profiles use (podman's `errno`, `defaultErrno`); numbers are Linux's. */
export const ERRNO_NUMBERS: Readonly<Record<string, number>> = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ERANGE: 34,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EPROTONOSUPPORT: 93,
};

export interface ArgCondition {
  /** Syscall argument 0-5. */
  index: number;
  value: number;
  valueTwo: number;
  op: ProfileOperator;
}

export interface RuleFilter {
  /** Go architecture names (amd64, arm64, ...), as Docker writes them. */
  arches: string[];
  /** Capability names with the CAP_ prefix. */
  caps: string[];
  /** `major.minor`: the rule needs at least this kernel (includes only). */
  minKernel?: string;
}

export interface SyscallRule {
  names: string[];
  action: ProfileAction;
  /** errno for SCMP_ACT_ERRNO, message for SCMP_ACT_TRACE; unset means EPERM. */
  errnoRet?: number;
  /** All must hold (AND); conditions on one argument index are split into separate rules (OR), as runc does. */
  args: ArgCondition[];
  includes: RuleFilter;
  excludes: RuleFilter;
  /** Where the rule is in the profile, for messages: `syscalls[3]`. */
  at: string;
}

export interface SeccompProfile {
  defaultAction: ProfileAction;
  defaultErrnoRet?: number;
  /** libseccomp names without the SCMP_ARCH_ prefix, lower case (x86_64, x86, x32, aarch64, ...). */
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] }[];
  flags: FilterFlag[];
  syscalls: SyscallRule[];
}

const PROFILE_SHAPE: ObjectShape = {
  known: [
    'defaultAction',
    'defaultErrnoRet',
    'defaultErrno',
    'architectures',
    'archMap',
    'flags',
    'syscalls',
    'comment',
    'listenerPath',
    'listenerMetadata',
  ],
};
const ARCH_MAP_SHAPE: ObjectShape = { known: ['architecture', 'subArchitectures'] };
const RULE_SHAPE: ObjectShape = {
  known: ['names', 'name', 'action', 'errnoRet', 'errno', 'args', 'includes', 'excludes', 'comment'],
};
const ARG_SHAPE: ObjectShape = { known: ['index', 'value', 'valueTwo', 'op'] };
const INCLUDES_SHAPE: ObjectShape = { known: ['arches', 'caps', 'minKernel'] };
const EXCLUDES_SHAPE: ObjectShape = { known: ['arches', 'caps'], unsupported: ['minKernel'] };

const MAX_RULES = 4096;
const MAX_NAMES = 4096;
/** Kernel errno values fit in 12 bits; SECCOMP_RET_DATA has 16. */
const MAX_ERRNO = 4095;

/** `SCMP_ARCH_X86_64` -> `x86_64`, libseccomp's name. */
export function archName(token: string): string {
  return token.replace(/^SCMP_ARCH_/, '').toLowerCase();
}

function errnoOf(f: Fields, numberKey: string, nameKey: string): number | undefined {
  const n = f.integer(numberKey, { min: 0, max: MAX_ERRNO });
  if (n !== undefined) return n;
  const name = f.string(nameKey, 32);
  if (name === undefined || name === '') return undefined;
  const mapped = ERRNO_NUMBERS[name];
  if (mapped === undefined) f.issues.add(f.at(nameKey), `"${name}" is not an errno name minipod knows (use ${numberKey})`);
  return mapped;
}

function decodeFilter(f: Fields | undefined): RuleFilter {
  const out: RuleFilter = { arches: f?.stringArray('arches', 64, 64) ?? [], caps: f?.stringArray('caps', 64, 64) ?? [] };
  const minKernel = f?.optionalString('minKernel', 32);
  if (minKernel !== undefined) {
    if (/^\d+\.\d+$/.test(minKernel)) out.minKernel = minKernel;
    else f!.issues.add(f!.at('minKernel'), `"${minKernel}" is not a kernel version like 4.8`);
  }
  for (const [i, cap] of out.caps.entries()) {
    if (!/^CAP_[A-Z_]+$/.test(cap)) f!.issues.add(`${f!.at('caps')}[${i}]`, `"${cap}" is not a capability name like CAP_SYS_ADMIN`);
  }
  return out;
}

function decodeArg(issues: Issues, value: unknown, path: string): ArgCondition | undefined {
  const f = Fields.open(issues, path, value, ARG_SHAPE);
  if (!f) return undefined;
  const index = f.required('index') === undefined ? undefined : f.integer('index', { min: 0, max: 5 });
  const op = f.required('op') === undefined ? undefined : f.enumOf('op', OPERATORS);
  const num = (key: string): number => f.integer(key, { min: 0 }) ?? 0;
  const arg = { index, value: num('value'), valueTwo: num('valueTwo'), op };
  return arg.index === undefined || arg.op === undefined ? undefined : (arg as ArgCondition);
}

function decodeRule(issues: Issues, value: unknown, path: string): SyscallRule | undefined {
  const f = Fields.open(issues, path, value, RULE_SHAPE);
  if (!f) return undefined;
  const names = [...(f.stringArray('names', MAX_NAMES, 64) ?? [])];
  const single = f.optionalString('name', 64);
  if (single !== undefined) names.push(single);
  if (names.length === 0) issues.add(f.at('names'), 'field is required (the syscalls this rule is about)');
  const action = f.required('action') === undefined ? undefined : f.enumOf('action', ACTIONS, ['SCMP_ACT_NOTIFY']);
  const errnoRet = errnoOf(f, 'errnoRet', 'errno');
  const args = f.list('args', 6, (item, p) => decodeArg(issues, item, p));
  const includes = decodeFilter(f.object('includes', INCLUDES_SHAPE));
  const excludes = decodeFilter(f.object('excludes', EXCLUDES_SHAPE));
  if (action === undefined || names.length === 0) return undefined;
  return { names, action, errnoRet, args, includes, excludes, at: path };
}

/**
 * Decodes a parsed JSON value as a profile. Problems are added to `issues` with paths relative
 * to the profile (`syscalls[2].action`); the result is undefined when there was any.
 */
export function decodeProfile(value: unknown, issues: Issues): SeccompProfile | undefined {
  const f = Fields.open(issues, '', value, PROFILE_SHAPE);
  if (!f) return undefined;
  const defaultAction = f.required('defaultAction') === undefined ? undefined : f.enumOf('defaultAction', ACTIONS, ['SCMP_ACT_NOTIFY']);
  const defaultErrnoRet = errnoOf(f, 'defaultErrnoRet', 'defaultErrno');
  const architectures = f.stringArray('architectures', 32, 64)?.map(archName);
  const archMap = f.list('archMap', 32, (item, p) => {
    const a = Fields.open(issues, p, item, ARCH_MAP_SHAPE);
    const architecture = a?.requiredString('architecture', 64);
    if (architecture === undefined) return undefined;
    return { architecture: archName(architecture), subArchitectures: (a!.stringArray('subArchitectures', 32, 64) ?? []).map(archName) };
  });
  const flags = (f.stringArray('flags', 8, 64) ?? []).filter((flag, i) => {
    if ((FILTER_FLAGS as readonly string[]).includes(flag)) return true;
    issues.add(`${f.at('flags')}[${i}]`, `"${flag}" is not supported by minipod (supported: ${FILTER_FLAGS.join(', ')})`);
    return false;
  }) as FilterFlag[];
  const syscalls = f.list('syscalls', MAX_RULES, (item, p) => decodeRule(issues, item, p));
  for (const key of ['listenerPath', 'listenerMetadata']) {
    if (f.has(key)) issues.add(f.at(key), 'is not supported by minipod (no seccomp agent: SCMP_ACT_NOTIFY is refused too)');
  }
  if (!issues.ok || defaultAction === undefined) return undefined;
  const profile: SeccompProfile = { defaultAction, flags, syscalls };
  if (defaultErrnoRet !== undefined) profile.defaultErrnoRet = defaultErrnoRet;
  if (architectures) profile.architectures = architectures;
  if (f.has('archMap')) profile.archMap = archMap;
  return profile;
}

/** The first problem of a profile, as one line: `syscalls[2].action: "X" is not one of ...`. */
export class ProfileError extends Error {
  override name = 'ProfileError';
}

/** JSON text -> profile, or a ProfileError naming the first problem. */
export function parseProfile(text: string): SeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(`not valid JSON (${(err as Error).message})`);
  }
  const issues = new Issues();
  const profile = decodeProfile(value, issues);
  const first = issues.list[0];
  if (first || !profile) throw new ProfileError(first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'not a profile');
  return profile;
}
