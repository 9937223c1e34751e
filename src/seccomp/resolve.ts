/**
 * A profile, for one container on this host, as the list of rules to compile (pure).
 *
 * Docker's semantics, which containers-common's seccomp.json relies on: a rule whose `excludes`
 * names a capability the container has, or an architecture that is the host's, is skipped; a
 * rule whose `includes` names capabilities applies only when the container has all of them, and
 * only on the named architectures and kernels. The architectures are the profile's
 * `architectures`, or the host's entry of `archMap` with its sub-architectures, or the host's.
 * Conditions on one argument index are split into one rule each (OR), as runc does, because
 * libseccomp allows one comparison per argument in a rule.
 */
import type { ArgCondition, FilterFlag, ProfileAction, SeccompProfile } from './profile.js';

/** libseccomp's action values (seccomp.h: SCMP_ACT_*). */
export const ACTION_VALUES: Record<Exclude<ProfileAction, 'SCMP_ACT_ERRNO' | 'SCMP_ACT_TRACE'>, number> = {
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
};
const ACT_ERRNO = 0x00050000;
const ACT_TRACE = 0x7ff00000;
const EPERM = 1;

export const OPERATOR_VALUES: Record<ArgCondition['op'], number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

export const FLAG_VALUES: Record<FilterFlag, number> = {
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

export interface HostFacts {
  /** Go's name of the host architecture (amd64, arm64), as profiles' includes/excludes use it. */
  goArch: string;
  /** libseccomp's name of it (x86_64, aarch64). */
  seccompArch: string;
  /** [major, minor] of the running kernel. */
  kernel: [number, number];
}

export interface CompiledRuleArg {
  index: number;
  op: number;
  value: number;
  valueTwo: number;
}

export interface FilterRule {
  syscall: string;
  action: number;
  args: CompiledRuleArg[];
  /** The profile rule it came from, for messages. */
  at: string;
}

/** Everything libseccomp needs, as data: the unit tests compare these. */
export interface FilterSpec {
  defaultAction: number;
  arches: string[];
  flags: number;
  rules: FilterRule[];
}

export function actionValue(action: ProfileAction, errnoRet: number | undefined): number {
  if (action === 'SCMP_ACT_ERRNO') return (ACT_ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  if (action === 'SCMP_ACT_TRACE') return (ACT_TRACE | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  return ACTION_VALUES[action];
}

/** Go architecture and libseccomp architecture of Node's `process.arch`. */
export function hostArch(nodeArch: string = process.arch): Pick<HostFacts, 'goArch' | 'seccompArch'> {
  const table: Record<string, [string, string]> = {
    x64: ['amd64', 'x86_64'],
    arm64: ['arm64', 'aarch64'],
    ia32: ['386', 'x86'],
    arm: ['arm', 'arm'],
    ppc64: ['ppc64le', 'ppc64le'],
    s390x: ['s390x', 's390x'],
    riscv64: ['riscv64', 'riscv64'],
  };
  const [goArch, seccompArch] = table[nodeArch] ?? [nodeArch, nodeArch];
  return { goArch, seccompArch };
}

/** `6.18.44-fc` -> [6, 18]. */
export function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function kernelAtLeast(kernel: [number, number], min: string): boolean {
  const [major, minor] = min.split('.').map(Number) as [number, number];
  return kernel[0] > major || (kernel[0] === major && kernel[1] >= minor);
}

function profileArches(profile: SeccompProfile, host: HostFacts): string[] {
  if (profile.architectures && profile.architectures.length > 0) return profile.architectures;
  const entry = profile.archMap?.find((a) => a.architecture === host.seccompArch);
  return entry ? [entry.architecture, ...entry.subArchitectures] : [host.seccompArch];
}

/** Splits conditions when two name the same argument (runc's rule). */
function conditionSets(args: ArgCondition[]): ArgCondition[][] {
  if (args.length === 0) return [[]];
  const indexes = new Set(args.map((a) => a.index));
  return indexes.size === args.length ? [args] : args.map((a) => [a]);
}

/**
 * The rules that apply to a container with `caps` (CAP_ names of its bounding set) on `host`.
 * Rules whose action is the default one are dropped (libseccomp refuses them; they change
 * nothing), and so are exact duplicates.
 */
export function resolveProfile(profile: SeccompProfile, caps: readonly string[], host: HostFacts): FilterSpec {
  const has = new Set(caps);
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const rules: FilterRule[] = [];
  const seen = new Set<string>();
  for (const rule of profile.syscalls) {
    const { includes: inc, excludes: exc } = rule;
    if (exc.caps.some((c) => has.has(c)) || exc.arches.includes(host.goArch)) continue;
    if (!inc.caps.every((c) => has.has(c))) continue;
    if (inc.arches.length > 0 && !inc.arches.includes(host.goArch)) continue;
    if (inc.minKernel && !kernelAtLeast(host.kernel, inc.minKernel)) continue;
    const action = actionValue(rule.action, rule.errnoRet);
    if (action === defaultAction) continue;
    for (const conds of conditionSets(rule.args)) {
      const args = conds.map((c) => ({ index: c.index, op: OPERATOR_VALUES[c.op], value: c.value, valueTwo: c.valueTwo }));
      for (const syscall of rule.names) {
        const key = JSON.stringify([syscall, action, args]);
        if (seen.has(key)) continue;
        seen.add(key);
        rules.push({ syscall, action, args, at: rule.at });
      }
    }
  }
  const flags = profile.flags.reduce((acc, f) => acc | FLAG_VALUES[f], 0);
  return { defaultAction, arches: profileArches(profile, host), flags, rules };
}
