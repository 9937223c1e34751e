/**
 * The container's own view of its cgroups at /sys/fs/cgroup (pure planning). Java, Go and Node
 * size heaps and thread pools from these files; without them they size themselves to the host.
 *
 * - cgroup v2 (unified): a cgroup namespace entered once the process is in its cgroup, then
 *   cgroup2 mounted at /sys/fs/cgroup: the mount's root is the namespace's root, the
 *   container's own cgroup (what Kubernetes and runc do). Done by the helper after joining, so
 *   it is not a mount step of the plan but `CgroupView.cgroup2`.
 * - cgroup v1 and hybrid: a tmpfs at /sys/fs/cgroup with the container's own directory of each
 *   v1 hierarchy bound at /sys/fs/cgroup/<controller> (runc's mountCgroupV1). The host's
 *   `unified/` of a hybrid host has no controllers and is left out, as runc does.
 *
 * Read-only unless the container is privileged (as Docker and podman do): a container must
 * not raise its own limits, and a v1 hierarchy's release_agent is a classic escape
 * (CVE-2022-0492). The namespace is entered on v1 too: /proc/self/cgroup then shows `/` for
 * each hierarchy, consistent with the view, and the host's cgroup paths stay hidden.
 */
import type { CgroupMode, CgroupView, MountStep } from './types.js';

export const CGROUP_MOUNT_POINT = '/sys/fs/cgroup';

export interface CgroupViewInput {
  mode: CgroupMode;
  /** The container's cgroup directory per hierarchy: `unified` or a v1 controller name. */
  dirs: Record<string, string>;
  privileged: boolean;
}

export interface PlannedCgroupView {
  /** Mounts before the pivot (v1: the tmpfs and the binds of host directories). */
  mounts: MountStep[];
  /** Paths to make read-only once everything is mounted (v1: the tmpfs itself). */
  readonlyPaths: string[];
  view: CgroupView;
}

const FLAGS = ['NOSUID', 'NODEV', 'NOEXEC'] as const;

export function planCgroupView(input: CgroupViewInput): PlannedCgroupView {
  const readOnly = !input.privileged;
  if (input.mode === 'unified') {
    return { mounts: [], readonlyPaths: [], view: { namespace: true, cgroup2: { readOnly } } };
  }
  const controllers = Object.keys(input.dirs)
    .filter((name) => name !== 'unified')
    .sort();
  const mounts: MountStep[] = [
    {
      source: 'tmpfs',
      destination: CGROUP_MOUNT_POINT,
      fstype: 'tmpfs',
      flags: [...FLAGS],
      data: 'mode=755,size=64k',
      destinationKind: 'dir',
      readOnly: false,
    },
    ...controllers.map((name): MountStep => ({
      source: input.dirs[name]!,
      destination: `${CGROUP_MOUNT_POINT}/${name}`,
      fstype: 'bind',
      flags: [...FLAGS],
      destinationKind: 'dir',
      readOnly,
    })),
  ];
  return { mounts, readonlyPaths: readOnly ? [CGROUP_MOUNT_POINT] : [], view: { namespace: true } };
}
