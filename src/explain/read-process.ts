/**
 * Reading processes from /proc (the edge): one process's facts, and the tree below it. The proc
 * root is a parameter so a test could point it elsewhere; explain uses /proc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeCapabilities, parseIdMap, parseNamespaceLink, parseProcCgroup, parseStat, parseStatus, seccompMode } from './proc-parse.js';
import { NAMESPACE_TYPES, type NamespaceInodes, type ProcessFacts, type ProcessNode } from './snapshot.js';

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Namespace inodes of a process; a type the kernel does not have (time before 5.6) is left out. */
export function readNamespaces(pid: number | 'self', procRoot = '/proc'): NamespaceInodes {
  const out: NamespaceInodes = {};
  for (const type of NAMESPACE_TYPES) {
    try {
      const inode = parseNamespaceLink(fs.readlinkSync(path.join(procRoot, String(pid), 'ns', type)));
      if (inode !== undefined) out[type] = inode;
    } catch {
      // not supported by this kernel, or the process is gone
    }
  }
  return out;
}

/** Everything explain shows of one process, or undefined when it is gone. */
export function readProcess(pid: number, procRoot = '/proc'): ProcessFacts | undefined {
  const dir = path.join(procRoot, String(pid));
  const statText = read(path.join(dir, 'stat'));
  const statusText = read(path.join(dir, 'status'));
  if (statText === undefined || statusText === undefined) return undefined;
  const stat = parseStat(statText);
  const status = parseStatus(statusText);
  const ids = (key: string): number[] => (status.get(key) ?? '').split(/\s+/).filter(Boolean).map(Number);
  const cmdline = (read(path.join(dir, 'cmdline')) ?? '').split('\0');
  if (cmdline.at(-1) === '') cmdline.pop();
  const capEff = status.get('CapEff');
  const filters = status.get('Seccomp_filters');
  return {
    pid,
    ppid: stat.ppid,
    nspid: ids('NSpid'),
    comm: stat.comm,
    cmdline,
    state: stat.state,
    startTime: stat.startTime,
    uid: ids('Uid'),
    gid: ids('Gid'),
    namespaces: readNamespaces(pid, procRoot),
    ...(capEff !== undefined
      ? {
          capabilities: {
            effectiveHex: capEff,
            boundingHex: status.get('CapBnd') ?? '',
            permittedHex: status.get('CapPrm') ?? '',
            ambientHex: status.get('CapAmb') ?? '',
            effective: decodeCapabilities(capEff),
            bounding: decodeCapabilities(status.get('CapBnd') ?? ''),
          },
        }
      : {}),
    seccomp: seccompMode(status.get('Seccomp')),
    ...(filters !== undefined ? { seccompFilters: Number(filters) } : {}),
    noNewPrivs: status.get('NoNewPrivs') === '1',
    uidMap: parseIdMap(read(path.join(dir, 'uid_map')) ?? ''),
    gidMap: parseIdMap(read(path.join(dir, 'gid_map')) ?? ''),
    cgroups: parseProcCgroup(read(path.join(dir, 'cgroup')) ?? ''),
  };
}

/** Parent pid -> child pids of every process on the host, read once per snapshot. */
export function readChildrenIndex(procRoot = '/proc'): Map<number, number[]> {
  const index = new Map<number, number[]>();
  for (const name of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(path.join(procRoot, name, 'stat'));
    if (stat === undefined) continue;
    const { ppid } = parseStat(stat);
    const list = index.get(ppid) ?? [];
    list.push(Number(name));
    index.set(ppid, list);
  }
  for (const list of index.values()) list.sort((a, b) => a - b);
  return index;
}

/** The process and its descendants (by host parent link); processes that vanish midway are left out. */
export function readProcessTree(pid: number, children: Map<number, number[]>, procRoot = '/proc', depth = 0): ProcessNode | undefined {
  const facts = readProcess(pid, procRoot);
  if (!facts) return undefined;
  // A fork bomb in a container must not make explain recurse without end.
  const kids = depth < 32 ? (children.get(pid) ?? []).slice(0, 256) : [];
  return {
    ...facts,
    children: kids.flatMap((c) => readProcessTree(c, children, procRoot, depth + 1) ?? []),
  };
}

/** The processes in one cgroup directory (its cgroup.procs), sorted; none when it is gone. */
export function pidsInCgroup(cgroupDir: string): number[] {
  const text = read(path.join(cgroupDir, 'cgroup.procs'));
  return (text ?? '')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
}
