/** What every verb shares: the root check, the error printer, the host's runtime objects. */
import { createCgroupManager } from '../cgroups/manager.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { UserError, exitCodeFor } from '../errors.js';
import { type MinipodPaths, minipodPaths } from '../paths.js';
import { LinuxSyscall } from '../syscall/linux.js';
import type { Syscall } from '../syscall/syscall.js';

export interface Runtime {
  paths: MinipodPaths;
  sys: Syscall;
  cgroups: CgroupManager;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new UserError('minipod needs root to create namespaces, mounts and cgroups: run it with sudo', {
      code: 'not-root',
    });
  }
}

export function hostRuntime(): Runtime {
  const paths = minipodPaths();
  return {
    paths,
    sys: new LinuxSyscall(),
    cgroups: createCgroupManager({ root: paths.cgroupRoot, parent: paths.cgroupParent }),
  };
}

/** Prints an error the way the user should see it and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof UserError) {
    process.stderr.write(`minipod: ${err.message.split('\n')[0]}\n`);
  } else {
    const e = err as Error;
    process.stderr.write(`minipod: internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.MINIPOD_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  }
  return exitCodeFor(err);
}
