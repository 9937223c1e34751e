/**
 * Handing out and taking back id ranges, across every minipod process on the host: one JSON
 * file under the run dir (`userns/ranges.json`), read and rewritten under an flock. The run dir
 * outlives a daemon restart (a pod that keeps running keeps its range) but not a reboot, which
 * leaves no pod behind either. A range stays taken until its pod is torn down; an entry whose
 * pod no longer has a run dir (a supervisor killed before its teardown) is reclaimed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { type MinipodPaths, podRunDir, usernsFiles } from '../paths.js';
import { withFileLock, writeFileAtomic } from '../state/lock.js';
import type { Syscall } from '../syscall/syscall.js';
import { grantSearch, revokeSearch } from './acl.js';
import { type IdRange, parseSubordinateIds, pickSlot, rangeOfSlot, SLOT_COUNT } from './ranges.js';

interface Allocation {
  slot: number;
  /** Directories given a search ACL entry for the range's root (revoked on free). */
  searchGrants: string[];
}

interface RangeFile {
  pods: Record<string, Allocation>;
}

function readRanges(paths: MinipodPaths): RangeFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(usernsFiles(paths).ranges, 'utf8')) as RangeFile;
    return { pods: parsed.pods ?? {} };
  } catch {
    return { pods: {} };
  }
}

function reservedOnHost(): IdRange[] {
  const read = (f: string): string => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  return [...parseSubordinateIds(read('/etc/subuid')), ...parseSubordinateIds(read('/etc/subgid'))];
}

/**
 * The pod's range (the one it already has, or the lowest free one), with search access for
 * its root on the directories leading to `searchTargets`.
 */
export async function allocateRange(sys: Syscall, paths: MinipodPaths, pod: string, searchTargets: string[]): Promise<IdRange> {
  fs.mkdirSync(path.dirname(usernsFiles(paths).ranges), { recursive: true, mode: 0o700 });
  return withFileLock(usernsFiles(paths).lock, async () => {
    const file = readRanges(paths);
    for (const [name, a] of Object.entries(file.pods)) {
      if (name !== pod && !fs.existsSync(podRunDir(paths, name))) {
        revokeSearch(sys, rangeOfSlot(a.slot).base, a.searchGrants);
        delete file.pods[name];
      }
    }
    let allocation = file.pods[pod];
    if (!allocation) {
      const used = new Set(Object.values(file.pods).map((a) => a.slot));
      const slot = pickSlot(used, reservedOnHost());
      if (slot === undefined) {
        throw new UserError(`spec.hostUsers: no free user namespace range (all ${SLOT_COUNT} in use)`, { code: 'userns.exhausted' });
      }
      allocation = { slot, searchGrants: [] };
    }
    const range = rangeOfSlot(allocation.slot);
    // Recorded before the grants are made, so a failure half-way still revokes what was done.
    file.pods[pod] = allocation;
    writeFileAtomic(usernsFiles(paths).ranges, JSON.stringify(file, null, 2) + '\n', 0o600);
    const granted = grantSearch(sys, range.base, searchTargets);
    allocation.searchGrants = [...new Set([...allocation.searchGrants, ...granted])];
    writeFileAtomic(usernsFiles(paths).ranges, JSON.stringify(file, null, 2) + '\n', 0o600);
    return range;
  });
}

/** Gives the pod's range back (nothing when it has none). */
export async function freeRange(sys: Syscall, paths: MinipodPaths, pod: string): Promise<void> {
  if (!fs.existsSync(usernsFiles(paths).ranges)) return;
  await withFileLock(usernsFiles(paths).lock, async () => {
    const file = readRanges(paths);
    const allocation = file.pods[pod];
    if (!allocation) return;
    revokeSearch(sys, rangeOfSlot(allocation.slot).base, allocation.searchGrants);
    delete file.pods[pod];
    writeFileAtomic(usernsFiles(paths).ranges, JSON.stringify(file, null, 2) + '\n', 0o600);
  });
}

/** The range a pod holds, for `exec` and tests (undefined: the pod shares the host's users). */
export function rangeOf(paths: MinipodPaths, pod: string): IdRange | undefined {
  const a = readRanges(paths).pods[pod];
  return a ? rangeOfSlot(a.slot) : undefined;
}
