/**
 * Pure parsers of the /proc files explain reads: each takes the file's text and returns data,
 * so they are tested on recorded text without a running pod.
 */
import type { IdMapEntry, Mount, ProcessCgroup } from './snapshot.js';

/** /proc/PID/status as a map of field -> value (tabs and leading spaces trimmed). */
export function parseStatus(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** The fields of /proc/PID/stat explain uses; comm may hold spaces and parentheses. */
export function parseStat(text: string): { comm: string; state: string; ppid: number; startTime: number } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

/** uid_map / gid_map lines: `inside outside count`. */
export function parseIdMap(text: string): IdMapEntry[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every((n) => Number.isFinite(n)))
    .map(([inside, outside, count]) => ({ inside: inside!, outside: outside!, count: count! }));
}

/** /proc/PID/cgroup: `id:controllers:path` per hierarchy. */
export function parseProcCgroup(text: string): ProcessCgroup[] {
  const out: ProcessCgroup[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    out.push({ hierarchyId: Number(m[1]), controllers: m[2] ? m[2].split(',') : [], path: m[3]! });
  }
  return out;
}

/** `net:[4026531840]` -> 4026531840. */
export function parseNamespaceLink(link: string): number | undefined {
  const m = /:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/** mountinfo's octal escapes (`\040` for a space). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface MountinfoLine {
  id: number;
  parentId: number;
  root: string;
  mountPoint: string;
  options: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/** /proc/PID/mountinfo (see proc(5)): the optional fields end at the ` - ` separator. */
export function parseMountinfo(text: string): MountinfoLine[] {
  const out: MountinfoLine[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    out.push({
      id: Number(left[0]),
      parentId: Number(left[1]),
      root: unescapeMountField(left[3] ?? ''),
      mountPoint: unescapeMountField(left[4] ?? ''),
      options: left[5] ?? '',
      fsType: right[0] ?? '',
      source: unescapeMountField(right[1] ?? ''),
      superOptions: right[2] ?? '',
    });
  }
  return out;
}

/** Kernel filesystems every container gets; a bind of /dev/null or an empty ro tmpfs over a path masks it. */
const SYSTEM_FS = new Set(['proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'tmpfs', 'devtmpfs']);

/** The container's mounts with what each is for. */
export function classifyMounts(lines: MountinfoLine[]): Mount[] {
  return lines.map((l) => {
    const readOnly = l.options.split(',').includes('ro');
    const masked =
      (l.root === '/null' && l.fsType === 'tmpfs') ||
      (l.fsType === 'tmpfs' && readOnly && /size=0k/.test(l.superOptions)) ||
      (l.fsType === 'proc' && l.root !== '/');
    const role: Mount['role'] =
      l.mountPoint === '/' ? 'rootfs' : masked ? 'masked' : SYSTEM_FS.has(l.fsType) && l.root === '/' ? 'system' : 'bind';
    return {
      mountPoint: l.mountPoint,
      fsType: l.fsType,
      source: l.source,
      root: l.root,
      readOnly,
      options: l.options,
      superOptions: l.superOptions,
      role,
    };
  });
}

/** overlayfs' lowerdir=a:b,upperdir=...,workdir=... from the super options (`\:` escapes a colon). */
export function parseOverlayOptions(superOptions: string): { lowerDirs?: string[]; upperDir?: string; workDir?: string } {
  const out: { lowerDirs?: string[]; upperDir?: string; workDir?: string } = {};
  for (const opt of superOptions.split(',')) {
    const i = opt.indexOf('=');
    if (i < 0) continue;
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    if (key === 'lowerdir') out.lowerDirs = value.split(/(?<!\\):/).map((d) => d.replace(/\\:/g, ':'));
    if (key === 'upperdir') out.upperDir = value;
    if (key === 'workdir') out.workDir = value;
  }
  return out;
}

/** capability(7) names by bit number (linux/capability.h, up to CAP_CHECKPOINT_RESTORE = 40). */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** A CapEff-style hex mask -> capability names, lowest bit first. */
export function decodeCapabilities(hex: string): string[] {
  let mask: bigint;
  try {
    mask = BigInt(`0x${hex || '0'}`);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) out.push(CAPABILITY_NAMES[bit] ?? `CAP_${bit}`);
  }
  return out;
}

/** Seccomp: 0 / 1 / 2 from /proc/PID/status. */
export function seccompMode(value: string | undefined): 'disabled' | 'strict' | 'filter' {
  return value === '2' ? 'filter' : value === '1' ? 'strict' : 'disabled';
}
