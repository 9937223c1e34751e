/**
 * Builds a container's root from a ContainerPlan inside the helper's own mount namespace:
 * overlay, then every mount at its resolved destination, /dev nodes, masks, then pivot_root.
 * Runs in the helper after unshare(CLONE_NEWNS); uses only synchronous fs calls, because
 * libuv's thread-pool threads stay in the host's mount namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MNT, MS, type MountFlagName } from '../../native-bindings/constants.js';
import { inContext } from '../errors.js';
import type { ContainerPlan, MountStep } from '../plan/types.js';
import type { Syscall } from '../syscall/syscall.js';
import { ensureInRoot, resolveInRoot } from './secure-join.js';

export function flagBits(names: readonly MountFlagName[]): number {
  return names.reduce((bits, name) => bits | MS[name], 0);
}

/** Options that keep the lower dirs safe: no index/metacopy trickery on untrusted layers. */
export function overlayOptions(plan: ContainerPlan['rootfs']): string {
  return `lowerdir=${plan.lowerDirs.join(':')},upperdir=${plan.upperDir},workdir=${plan.workDir}`;
}

/** Makes every mount we inherit private, so nothing we mount propagates back to the host. */
export function makeMountsPrivate(sys: Syscall): void {
  sys.mount(null, '/', null, MS.REC | MS.PRIVATE);
}

function mountOne(sys: Syscall, root: string, step: MountStep): void {
  const target = ensureInRoot(root, step.destination, step.destinationKind);
  const flags = flagBits(step.flags);
  if (step.fstype === 'bind') {
    sys.mount(step.source, target, null, MS.BIND | MS.REC | flags);
    if (step.readOnly || flags !== 0) {
      sys.mount(null, target, null, MS.REMOUNT | MS.BIND | flags | (step.readOnly ? MS.RDONLY : 0));
    }
    return;
  }
  sys.mount(step.source, target, step.fstype, flags | (step.readOnly ? MS.RDONLY : 0), step.data ?? null);
}

/** Hides a /proc or /sys path: /dev/null over a file, an empty read-only tmpfs over a dir. */
function maskPath(sys: Syscall, root: string, unsafePath: string): void {
  const target = resolveInRoot(root, unsafePath);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return; // Not on this kernel: nothing to hide.
  }
  if (stat.isDirectory()) {
    sys.mount('tmpfs', target, 'tmpfs', MS.RDONLY, 'size=0');
  } else {
    sys.mount(path.join(root, 'dev/null'), target, null, MS.BIND);
  }
}

function readonlyPath(sys: Syscall, root: string, unsafePath: string): void {
  const target = resolveInRoot(root, unsafePath);
  if (!fs.existsSync(target)) return;
  sys.mount(target, target, null, MS.BIND | MS.REC);
  sys.mount(null, target, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
}

/** Everything up to and including pivot_root; afterwards `/` is the container's root. */
export function setupRootfs(sys: Syscall, plan: ContainerPlan): void {
  const root = plan.rootfs.mountPoint;
  // Modes we create (0666 devices, 0755 dirs) are meant exactly; the umask is ours alone
  // since unshare(CLONE_NEWNS) gave this thread its own fs_struct. prepareExec restores 022.
  sys.umask(0);
  makeMountsPrivate(sys);
  if (plan.inUserNamespace) {
    // The supervisor's overlay came with the copy of its mount namespace, locked to its parent,
    // and pivot_root refuses a locked mount (EINVAL): a bind of it made here is ours (runc does
    // the same bind of the rootfs onto itself).
    inContext('bind the root onto itself', () => sys.mount(root, root, null, MS.BIND | MS.REC));
  } else {
    inContext('mount the overlay root', () => sys.mount('overlay', root, 'overlay', MS.NODEV, overlayOptions(plan.rootfs)));
  }
  for (const step of plan.mounts) {
    inContext(`mount ${step.destination}`, () => mountOne(sys, root, step));
  }
  for (const dev of plan.devices) {
    inContext(`create ${dev.path}`, () => {
      // The host's node, bound (runc's way in a user namespace, where mknod is refused): the
      // container's /dev is a nodev tmpfs, and a bind keeps the host node's own mount, so the
      // devices it gets open and any node it makes itself does not.
      const target = resolveInRoot(root, dev.path);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      fs.rmSync(target, { force: true });
      fs.writeFileSync(target, '', { mode: 0o600 });
      sys.mount(dev.path, target, null, MS.BIND);
    });
  }
  for (const link of plan.symlinks) {
    const where = resolveInRoot(root, link.path);
    fs.rmSync(where, { force: true });
    fs.symlinkSync(link.target, where);
  }
  for (const p of plan.maskedPaths) inContext(`mask ${p}`, () => maskPath(sys, root, p));
  for (const p of plan.readonlyPaths) inContext(`make ${p} read-only`, () => readonlyPath(sys, root, p));
  pivotInto(sys, root);
  if (plan.rootfs.readOnly) {
    inContext('make the root read-only', () => sys.mount(null, '/', null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NODEV));
  }
}

/**
 * pivot_root(".", ".") then a lazy unmount of the old root stacked on top (runc's trick): no
 * directory for the old root is needed inside the image, and nothing of the host stays mounted.
 */
export function pivotInto(sys: Syscall, root: string): void {
  inContext('pivot_root', () => {
    sys.chdir(root);
    sys.pivotRoot('.', '.');
    sys.umount2('.', MNT.DETACH);
    sys.chdir('/');
  });
}
