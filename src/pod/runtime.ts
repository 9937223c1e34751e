/**
 * The host's runtime objects that every verb acting on pods shares (the CLI's direct verbs and
 * the daemon): where things live, the real Syscall, and the cgroup manager of this host.
 */
import { createCgroupManager, type CgroupManager } from '../cgroups/manager.js';
import { type MinipodPaths, minipodPaths } from '../paths.js';
import { LinuxSyscall } from '../syscall/linux.js';
import type { Syscall } from '../syscall/syscall.js';

export interface Runtime {
  paths: MinipodPaths;
  sys: Syscall;
  cgroups: CgroupManager;
}

export function hostRuntime(): Runtime {
  const paths = minipodPaths();
  return {
    paths,
    sys: new LinuxSyscall(),
    cgroups: createCgroupManager({ root: paths.cgroupRoot, parent: paths.cgroupParent }),
  };
}
