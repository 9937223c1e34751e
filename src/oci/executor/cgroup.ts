/**
 * The container's cgroup, through the cgroup manager (src/cgroups, v1 and v2 behind one
 * interface): `linux.cgroupsPath` `/a/b/c` is the manager's parent `a/b` and its "pod" `c`, in
 * every hierarchy. A cgroup that exists already is joined and left in place at delete (runc
 * joins one too); one we made is removed with the container. Then the config's resource writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createCgroupManager, type CgroupManager, nodeCgroupFs } from '../../cgroups/index.js';
import type { CgroupMode } from '../../plan/types.js';
import type { MountStep } from '../../plan/types.js';
import { configError } from '../config/errors.js';
import type { OciCgroupRequest } from '../config/translate.js';
import type { ContainerRecord } from '../state/store.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

export interface OciCgroup {
  manager: CgroupManager;
  name: string;
  parent: string;
  paths: Record<string, string>;
  owned: boolean;
  procs: string[];
}

function managerFor(parent: string, mode?: CgroupMode): CgroupManager {
  return createCgroupManager({ root: CGROUP_ROOT, parent, mode });
}

export function setupCgroup(req: OciCgroupRequest, mode: CgroupMode): OciCgroup {
  const parent = path.posix.dirname(req.path);
  const name = path.posix.basename(req.path);
  const manager = managerFor(parent, mode);
  const paths = manager.paths(name);
  const exists = Object.values(paths).some((d) => fs.existsSync(d));
  if (!exists) {
    manager.create({
      pod: name,
      version: manager.version,
      cgroups: [{ kind: 'container', child: '', limits: { swapAllowed: true }, writes: [] }],
    });
  }
  const cgroup: OciCgroup = { manager, name, parent, paths, owned: !exists, procs: manager.procsFiles(name, '') };
  try {
    for (const w of req.writes) {
      const dir = paths[w.controller];
      const file = dir === undefined ? undefined : path.join(dir, w.file);
      if (file === undefined || !fs.existsSync(file)) {
        throw configError(w.field, `this host has no ${w.controller === 'unified' ? '' : `${w.controller} `}cgroup file ${w.file}`);
      }
      try {
        nodeCgroupFs.write(file, w.value);
      } catch (err) {
        throw configError(w.field, (err as Error).message);
      }
    }
  } catch (err) {
    if (cgroup.owned) void manager.destroy(name).catch(() => undefined);
    throw err;
  }
  return cgroup;
}

export function recordedCgroup(c: OciCgroup): NonNullable<ContainerRecord['cgroup']> {
  return { paths: c.paths, owned: c.owned, manager: { parent: c.parent, name: c.name } };
}

/** Kills what is left in a cgroup we made and removes it (and its parents once empty). */
export async function destroyCgroup(cgroup: ContainerRecord['cgroup']): Promise<void> {
  if (!cgroup?.owned) return;
  await managerFor(cgroup.manager.parent).destroy(cgroup.manager.name);
}

/** Pids of every process in the container's cgroup (kill --all, ps). */
export function cgroupPids(cgroup: ContainerRecord['cgroup']): number[] {
  if (!cgroup) return [];
  return managerFor(cgroup.manager.parent).pids(cgroup.manager.name);
}

/**
 * A `cgroup` mount of config.json, once the cgroup exists. v2: the cgroup2 filesystem (with a
 * cgroup namespace the helper mounts it after the unshare, see translate.ts). v1 (and hybrid):
 * runc's layout, a tmpfs with the container's own cgroup of each hierarchy bound at its name,
 * the whole made read-only when the mount says `ro`.
 */
export function expandCgroupMounts(
  mounts: readonly MountStep[],
  hierarchies: readonly { name: string; dir: string }[],
  v2: boolean,
  root: string,
): MountStep[] {
  return mounts.flatMap((m): MountStep[] => {
    if (m.fstype !== 'cgroup' && m.fstype !== 'cgroup2') return [m];
    if (v2) return [{ ...m, source: 'cgroup2', fstype: 'cgroup2' }];
    const flags = m.flags.filter((f) => f !== 'RDONLY');
    const steps: MountStep[] = [
      { source: 'tmpfs', destination: m.destination, fstype: 'tmpfs', flags, data: 'mode=755', destinationKind: 'dir', readOnly: false },
    ];
    for (const h of hierarchies) {
      steps.push({
        source: h.dir,
        destination: path.posix.join(m.destination, h.name),
        fstype: 'bind',
        flags,
        destinationKind: 'dir',
        readOnly: m.readOnly,
        nonRecursive: true,
      });
    }
    // The tmpfs, with the binds in it (recursive), bound onto itself read-only: a tmpfs mounted
    // read-only at once could not get the directories the binds need.
    if (m.readOnly) {
      steps.push({
        source: path.join(root, m.destination),
        destination: m.destination,
        fstype: 'bind',
        flags,
        destinationKind: 'dir',
        readOnly: true,
      });
    }
    return steps;
  });
}
