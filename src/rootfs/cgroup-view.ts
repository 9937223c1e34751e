/**
 * The helper's half of the container's cgroup view (planned in src/plan/cgroup-view.ts): run
 * once the process is in its cgroups, after the pivot, before credentials are dropped.
 */
import { CLONE, MS } from '../../native-bindings/constants.js';
import { inContext } from '../errors.js';
import { CGROUP_MOUNT_POINT } from '../plan/cgroup-view.js';
import type { CgroupView } from '../plan/types.js';
import type { Syscall } from '../syscall/syscall.js';

/**
 * A new cgroup namespace rooted at the cgroups the process is in now, and on cgroup v2 the
 * namespace's root mounted at /sys/fs/cgroup (a cgroup2 mount shows the mounter's namespace
 * root, so this must follow the unshare).
 */
export function enterCgroupView(sys: Syscall, view: CgroupView | undefined): void {
  if (!view?.namespace) return;
  inContext('enter a cgroup namespace', () => sys.unshare(CLONE.NEWCGROUP));
  const cgroup2 = view.cgroup2;
  if (cgroup2) {
    const flags = MS.NOSUID | MS.NODEV | MS.NOEXEC | (cgroup2.readOnly ? MS.RDONLY : 0);
    inContext(`mount ${CGROUP_MOUNT_POINT}`, () => sys.mount('cgroup2', CGROUP_MOUNT_POINT, 'cgroup2', flags));
  }
}
