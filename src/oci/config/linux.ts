/**
 * config.json `linux` sections that are not resources: namespaces, devices, sysctl, id mappings,
 * rootfs propagation. Pure; the executor acts on the result.
 */
import path from 'node:path';
import type { DeviceNode } from '../../plan/types.js';
import { checkString, checkUint, configError, isObject, unsupported } from './errors.js';

export type NamespaceType = 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup' | 'user' | 'time';

const NAMESPACE_TYPES: readonly NamespaceType[] = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'user', 'time'];

export interface NamespaceRequest {
  type: NamespaceType;
  /** Join this namespace file; absent: a new namespace. */
  path?: string;
}

export function translateNamespaces(raw: unknown): NamespaceRequest[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw configError('linux.namespaces', 'is not a list');
  const seen = new Set<string>();
  return raw.map((n: unknown, i) => {
    const at = `linux.namespaces[${i}]`;
    if (!isObject(n)) throw configError(at, 'is not an object');
    const type = checkString(`${at}.type`, n.type) as NamespaceType;
    if (!NAMESPACE_TYPES.includes(type))
      throw configError(`${at}.type`, `"${type}" is not a namespace type (${NAMESPACE_TYPES.join(', ')})`);
    if (seen.has(type)) throw configError(`${at}.type`, `the ${type} namespace is given twice`);
    seen.add(type);
    const req: NamespaceRequest = { type };
    if (n.path !== undefined && n.path !== '') {
      const p = checkString(`${at}.path`, n.path);
      if (!path.isAbsolute(p)) throw configError(`${at}.path`, `"${p}" is not an absolute path`);
      req.path = p;
    }
    if (type === 'time') throw unsupported(`${at}`, 'time namespaces are not supported by minipod-oci');
    if (type === 'mount' && req.path)
      throw unsupported(`${at}.path`, 'joining a mount namespace is not supported by minipod-oci (the container gets its own)');
    return req;
  });
}

const S_IF: Record<string, number> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

/** The nodes the runtime spec says every container gets (config-linux.md, "Default Devices"). */
export const DEFAULT_DEVICES: DeviceNode[] = [
  { path: '/dev/null', major: 1, minor: 3, mode: 0o020000 | 0o666 },
  { path: '/dev/zero', major: 1, minor: 5, mode: 0o020000 | 0o666 },
  { path: '/dev/full', major: 1, minor: 7, mode: 0o020000 | 0o666 },
  { path: '/dev/random', major: 1, minor: 8, mode: 0o020000 | 0o666 },
  { path: '/dev/urandom', major: 1, minor: 9, mode: 0o020000 | 0o666 },
  { path: '/dev/tty', major: 5, minor: 0, mode: 0o020000 | 0o666 },
];

export const DEFAULT_DEV_SYMLINKS = [
  { path: '/dev/fd', target: '/proc/self/fd' },
  { path: '/dev/stdin', target: '/proc/self/fd/0' },
  { path: '/dev/stdout', target: '/proc/self/fd/1' },
  { path: '/dev/stderr', target: '/proc/self/fd/2' },
  { path: '/dev/ptmx', target: 'pts/ptmx' },
];

export function translateDevices(raw: unknown): DeviceNode[] {
  const out: DeviceNode[] = [];
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw)) throw configError('linux.devices', 'is not a list');
    raw.forEach((d: unknown, i) => {
      const at = `linux.devices[${i}]`;
      if (!isObject(d)) throw configError(at, 'is not an object');
      const type = checkString(`${at}.type`, d.type);
      if (!(type in S_IF)) throw configError(`${at}.type`, `"${type}" is not c, b, u or p`);
      const p = path.posix.normalize(checkString(`${at}.path`, d.path));
      if (!p.startsWith('/dev/')) throw configError(`${at}.path`, `"${p}" is not below /dev`);
      const needsNumbers = type !== 'p';
      const major = d.major === undefined ? (needsNumbers ? undefined : 0) : checkUint(`${at}.major`, d.major);
      const minor = d.minor === undefined ? (needsNumbers ? undefined : 0) : checkUint(`${at}.minor`, d.minor);
      if (major === undefined || minor === undefined) throw configError(at, 'a c, b or u device needs major and minor');
      const perm = d.fileMode === undefined ? 0o666 : checkUint(`${at}.fileMode`, d.fileMode, 0o7777);
      const node: DeviceNode = { path: p, major, minor, mode: S_IF[type]! | perm };
      if (d.uid !== undefined) node.uid = checkUint(`${at}.uid`, d.uid);
      if (d.gid !== undefined) node.gid = checkUint(`${at}.gid`, d.gid);
      out.push(node);
    });
  }
  for (const def of DEFAULT_DEVICES) if (!out.some((d) => d.path === def.path)) out.push(def);
  return out;
}

/** Sysctls a container may set, and the namespace that makes them its own (runc's validator). */
function sysctlNamespace(key: string): NamespaceType | undefined {
  if (
    [
      'kernel.msgmax',
      'kernel.msgmnb',
      'kernel.msgmni',
      'kernel.sem',
      'kernel.shmall',
      'kernel.shmmax',
      'kernel.shmmni',
      'kernel.shm_rmid_forced',
    ].includes(key)
  )
    return 'ipc';
  if (key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}

export function translateSysctls(raw: unknown, namespaces: readonly NamespaceRequest[]): [string, string][] {
  if (raw === undefined || raw === null) return [];
  if (!isObject(raw)) throw configError('linux.sysctl', 'is not an object');
  return Object.entries(raw).map(([key, value]) => {
    const at = `linux.sysctl.${key}`;
    if (!/^[a-z0-9_.\-/]+$/i.test(key) || key.includes('..')) throw configError(at, 'is not a sysctl name');
    const ns = sysctlNamespace(key);
    if (!ns) throw configError(at, 'is not namespaced: writing it would change the host');
    // A namespace joined by path may be the host's; runc checks the same (it is the caller's to give).
    if (!namespaces.some((n) => n.type === ns)) throw configError(at, `needs the container to have its own ${ns} namespace`);
    return [key, checkString(at, value)];
  });
}
