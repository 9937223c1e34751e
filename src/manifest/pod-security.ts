/**
 * `spec.securityContext` and `spec.hostAliases`: the pod-wide settings that are not about one
 * container. runAs* are defaults folded into each container's own securityContext; fsGroup,
 * supplementalGroups and sysctls act on the whole pod.
 */
import type { HostAlias, PodSecurityContext, Sysctl } from './types.js';
import type { PodSecurityDefaults } from './container.js';
import { quote } from './issues.js';
import { checkInteger, Fields, type ObjectShape } from './reader.js';
import { dns1123SubdomainProblem, isIpAddress } from './syntax.js';
import { APPARMOR_PROFILE_SHAPE, decodeAppArmorProfile, decodeSeLinuxOptions, SELINUX_OPTIONS_SHAPE } from './lsm-fields.js';
import { decodeSeccompProfile, SECCOMP_PROFILE_SHAPE } from './seccomp-profile.js';
import { normaliseSysctlName, sysctlNameProblem } from './sysctls.js';

export const POD_SECURITY_SHAPE: ObjectShape = {
  type: 'PodSecurityContext',
  known: [
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'fsGroup',
    'fsGroupChangePolicy',
    'supplementalGroups',
    'supplementalGroupsPolicy',
    'sysctls',
    'seccompProfile',
    'appArmorProfile',
    'seLinuxOptions',
  ],
};
export const SYSCTL_SHAPE: ObjectShape = { type: 'Sysctl', known: ['name', 'value'] };
export const HOST_ALIAS_SHAPE: ObjectShape = { type: 'HostAlias', known: ['ip', 'hostnames'] };

export const POD_SECURITY_LIMITS = { supplementalGroups: 64, sysctls: 256, hostAliases: 256, hostnames: 64 } as const;

/** Highest uid/gid: 2^32-1 is (uid_t)-1, "no change" to the kernel. */
const MAX_ID = 2 ** 32 - 2;

export interface DecodedPodSecurity {
  defaults: PodSecurityDefaults;
  pod: PodSecurityContext;
}

export function decodePodSecurity(f: Fields | undefined): DecodedPodSecurity {
  const defaults: PodSecurityDefaults = {};
  const pod: PodSecurityContext = {
    fsGroupChangePolicy: 'Always',
    supplementalGroups: [],
    supplementalGroupsPolicy: 'Merge',
    sysctls: [],
  };
  if (!f) return { defaults, pod };
  const runAsUser = f.integer('runAsUser', { min: 0, max: MAX_ID });
  const runAsGroup = f.integer('runAsGroup', { min: 0, max: MAX_ID });
  const runAsNonRoot = f.boolean('runAsNonRoot');
  if (runAsUser !== undefined) defaults.runAsUser = runAsUser;
  if (runAsGroup !== undefined) defaults.runAsGroup = runAsGroup;
  if (runAsNonRoot !== undefined) defaults.runAsNonRoot = runAsNonRoot;
  const seccompProfile = decodeSeccompProfile(f.object('seccompProfile', SECCOMP_PROFILE_SHAPE));
  if (seccompProfile) defaults.seccompProfile = seccompProfile;
  const appArmorProfile = decodeAppArmorProfile(f.object('appArmorProfile', APPARMOR_PROFILE_SHAPE));
  if (appArmorProfile) defaults.appArmorProfile = appArmorProfile;
  const seLinuxOptions = decodeSeLinuxOptions(f.object('seLinuxOptions', SELINUX_OPTIONS_SHAPE));
  if (seLinuxOptions) defaults.seLinuxOptions = seLinuxOptions;

  const fsGroup = f.integer('fsGroup', { min: 0, max: MAX_ID });
  if (fsGroup !== undefined) pod.fsGroup = fsGroup;
  pod.fsGroupChangePolicy = f.enumOf('fsGroupChangePolicy', ['Always', 'OnRootMismatch'] as const) ?? 'Always';
  pod.supplementalGroupsPolicy = f.enumOf('supplementalGroupsPolicy', ['Merge', 'Strict'] as const) ?? 'Merge';
  const groups = f.list('supplementalGroups', POD_SECURITY_LIMITS.supplementalGroups, (item, p) =>
    checkInteger(f.issues, p, item, { min: 0, max: MAX_ID }),
  );
  pod.supplementalGroups = [...new Set(groups)];
  pod.sysctls = decodeSysctls(f);
  return { defaults, pod };
}

function decodeSysctls(f: Fields): Sysctl[] {
  const seen = new Set<string>();
  return f.list('sysctls', POD_SECURITY_LIMITS.sysctls, (item, p) => {
    const s = Fields.open(f.issues, p, item, SYSCTL_SHAPE);
    if (!s) return undefined;
    const raw = s.requiredString('name', 253);
    const value = s.string('value', 4096) ?? '';
    if (raw === undefined) return undefined;
    const problem = sysctlNameProblem(raw);
    if (problem) {
      f.issues.add(s.at('name'), `${quote(raw)} ${problem}`);
      return undefined;
    }
    const name = normaliseSysctlName(raw);
    if (seen.has(name)) {
      f.issues.add(s.at('name'), `${quote(raw)} is set twice`);
      return undefined;
    }
    seen.add(name);
    return { name, value };
  });
}

export function decodeHostAliases(spec: Fields): HostAlias[] {
  return spec.list('hostAliases', POD_SECURITY_LIMITS.hostAliases, (item, p) => {
    const a = Fields.open(spec.issues, p, item, HOST_ALIAS_SHAPE);
    if (!a) return undefined;
    const ip = a.requiredString('ip', 64);
    if (ip !== undefined && !isIpAddress(ip)) spec.issues.add(a.at('ip'), `${quote(ip)} is not an IP address`);
    const hostnames = a.stringArray('hostnames', POD_SECURITY_LIMITS.hostnames, 253) ?? [];
    hostnames.forEach((h, i) => {
      const problem = dns1123SubdomainProblem(h);
      if (problem) spec.issues.add(`${a.at('hostnames')}[${i}]`, `${quote(h)} ${problem}`);
    });
    if (ip === undefined || !isIpAddress(ip)) return undefined;
    return { ip, hostnames };
  });
}
