/** What the verbs that act on the host share: the host's runtime objects. */
export { reportError, requireRoot } from './report.js';
import { createCgroupManager } from '../cgroups/manager.js';
import type { CgroupManager } from '../cgroups/manager.js';
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
