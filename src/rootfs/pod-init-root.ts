/**
 * The pod init's root: an empty read-only tmpfs holding only the init binary (bound read-only),
 * so nothing of the host is reachable from the pod's PID 1 through /proc/1/root, /proc/1/cwd or
 * /proc/1/exe. Runs in the init helper, in its own mount namespace, before pivot_root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MS } from '../../native-bindings/constants.js';
import type { PodInitPlan } from '../plan/types.js';
import type { Syscall } from '../syscall/syscall.js';
import { makeMountsPrivate, pivotInto } from './mount-rootfs.js';

/** Path of the init binary inside the new root. */
export const POD_INIT_PATH = '/init';

export function setupPodInitRoot(sys: Syscall, plan: Pick<PodInitPlan, 'rootDir' | 'initBinary'>): void {
  makeMountsPrivate(sys);
  sys.mount('tmpfs', plan.rootDir, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=0755');
  const initPath = path.join(plan.rootDir, POD_INIT_PATH);
  fs.writeFileSync(initPath, '', { mode: 0o555 });
  sys.mount(plan.initBinary, initPath, null, MS.BIND);
  sys.mount(null, initPath, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV);
  sys.mount(null, plan.rootDir, null, MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV);
}

export function pivotIntoPodInitRoot(sys: Syscall, plan: Pick<PodInitPlan, 'rootDir'>): void {
  pivotInto(sys, plan.rootDir);
}
