/**
 * config.json `linux.uidMappings` / `linux.gidMappings`: the id maps of a new user namespace
 * (config-linux.md, "User namespace mappings"). Pure: checked here with the kernel's own rules
 * (proc(5) uid_map, kernel/user_namespace.c map_write), so a wrong map is one error naming its
 * field before anything exists, instead of an EINVAL from the write after the container's
 * namespaces and cgroup were made. The runtime writes the text (idMapFileText) to
 * /proc/<init>/uid_map and gid_map from outside, as runc and crun do.
 */
import type { ProcessSpec } from '../../plan/types.js';
import { checkUint, configError, isObject } from './errors.js';

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface IdMappings {
  uid: IdMapping[];
  gid: IdMapping[];
}

/** Kernel 4.15+: at most 340 lines a map, and the text is written in one write under a page. */
export const MAX_MAP_LINES = 340;
const PAGE_SIZE = 4096;
const U32_END = 2 ** 32;

function overlapping(a: number, aSize: number, b: number, bSize: number): boolean {
  return a < b + bSize && b < a + aSize;
}

function translateList(field: string, raw: unknown): IdMapping[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw configError(field, 'is not a list');
  if (raw.length > MAX_MAP_LINES) throw configError(field, `has ${raw.length} entries; the kernel takes at most ${MAX_MAP_LINES}`);
  const out = raw.map((m: unknown, i): IdMapping => {
    const at = `${field}[${i}]`;
    if (!isObject(m)) throw configError(at, 'is not an object');
    const mapping = {
      containerID: checkUint(`${at}.containerID`, m.containerID),
      hostID: checkUint(`${at}.hostID`, m.hostID),
      size: checkUint(`${at}.size`, m.size),
    };
    if (mapping.size === 0) throw configError(`${at}.size`, 'is 0: a mapping maps at least one id');
    // The kernel's check: first + count must not wrap a u32 (id 4294967295 is "no id").
    for (const side of ['containerID', 'hostID'] as const) {
      if (mapping[side] + mapping.size >= U32_END)
        throw configError(at, `${side} ${mapping[side]} + size ${mapping.size} goes past the last id (4294967294)`);
    }
    return mapping;
  });
  out.forEach((m, i) => {
    for (let j = 0; j < i; j++) {
      const o = out[j]!;
      if (overlapping(m.containerID, m.size, o.containerID, o.size))
        throw configError(`${field}[${i}]`, `container ids ${m.containerID}-${m.containerID + m.size - 1} overlap ${field}[${j}]`);
      if (overlapping(m.hostID, m.size, o.hostID, o.size))
        throw configError(`${field}[${i}]`, `host ids ${m.hostID}-${m.hostID + m.size - 1} overlap ${field}[${j}]`);
    }
  });
  if (idMapFileText(out).length >= PAGE_SIZE) throw configError(field, `is too long for the kernel (${PAGE_SIZE} bytes of map text)`);
  return out;
}

/** The container id `id` maps to a host id: the kernel's answer, or undefined (unmapped). */
export function mapToHost(mappings: readonly IdMapping[], id: number): number | undefined {
  const m = mappings.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : undefined;
}

/** The uid_map / gid_map text: one `container host size` line per mapping. */
export function idMapFileText(mappings: readonly IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

export interface UserNamespaceRequest {
  /** A new user namespace (`user` without path). */
  create: boolean;
  /** A user namespace joined by path. */
  joined: boolean;
}

/**
 * The mappings, checked against the namespace request and the process's ids: a new user
 * namespace needs both maps (runc: "no uid mappings found"), they must map container root
 * (the init becomes it before it mounts anything, as runc's nsexec does), and the process's
 * uid, gid and additional gids are ids inside the namespace, so each must be mapped.
 */
export function translateIdMappings(
  linux: Record<string, unknown>,
  userns: UserNamespaceRequest,
  user: ProcessSpec['user'],
): IdMappings | undefined {
  const maps = { uid: translateList('linux.uidMappings', linux.uidMappings), gid: translateList('linux.gidMappings', linux.gidMappings) };
  const given = maps.uid.length > 0 || maps.gid.length > 0;
  if (userns.joined) {
    if (given) throw configError('linux.uidMappings', 'is given with a user namespace path: a namespace that exists has its maps already');
    return undefined;
  }
  if (!userns.create) {
    if (given)
      throw configError(
        maps.uid.length > 0 ? 'linux.uidMappings' : 'linux.gidMappings',
        'needs a new user namespace (linux.namespaces type "user")',
      );
    return undefined;
  }
  for (const [kind, field] of [
    ['uid', 'linux.uidMappings'],
    ['gid', 'linux.gidMappings'],
  ] as const) {
    if (maps[kind].length === 0) throw configError(field, `is empty: a new user namespace needs its ${kind} map`);
    if (mapToHost(maps[kind], 0) === undefined)
      throw configError(field, `maps no container ${kind} 0: the container's init is root of its user namespace while it sets up`);
  }
  const check = (field: string, id: number | undefined, kind: 'uid' | 'gid'): void => {
    if (id !== undefined && mapToHost(maps[kind], id) === undefined)
      throw configError(field, `${id} is not mapped by linux.${kind}Mappings (ids are the user namespace's)`);
  };
  check('process.user.uid', user.uid, 'uid');
  check('process.user.gid', user.gid, 'gid');
  (user.groups ?? []).forEach((g, i) => check(`process.user.additionalGids[${i}]`, g, 'gid'));
  return maps;
}
