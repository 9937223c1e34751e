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
import type { ContainerPlan, DeviceNode, MountStep } from '../plan/types.js';
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

const OPTION_FLAGS: Readonly<Record<string, number>> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  relatime: MS.RELATIME,
};

/**
 * The per-mount flags of the mount at `target` (the last one stacked there), from mountinfo's
 * options field. A remount must keep them: in a user namespace a mount copied from a more
 * privileged one has them locked, and a remount that would clear one is EPERM (runc keeps them
 * the same way). No atime flag read means strictatime.
 */
export function mountFlagsAt(target: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): number {
  const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  const line = mountinfo
    .split('\n')
    .filter((l) => l && unescape(l.split(' ')[4] ?? '') === target)
    .pop();
  if (!line) return 0;
  const options = line.split(' ')[5]!.split(',');
  let flags = 0;
  for (const o of options) flags |= OPTION_FLAGS[o] ?? 0;
  if (!options.some((o) => o === 'noatime' || o === 'relatime')) flags |= MS.STRICTATIME;
  return flags;
}

const EPERM = 1;

function mountOne(sys: Syscall, root: string, step: MountStep): void {
  const target = ensureInRoot(root, step.destination, step.destinationKind);
  const flags = flagBits(step.flags);
  if (step.fstype === 'bind') {
    sys.mount(step.source, target, null, MS.BIND | (step.nonRecursive ? 0 : MS.REC) | flags);
    if (step.readOnly || flags !== 0) {
      const kept = mountFlagsAt(target);
      sys.mount(null, target, null, MS.REMOUNT | MS.BIND | kept | flags | (step.readOnly ? MS.RDONLY : 0));
    }
  } else {
    try {
      sys.mount(step.source, target, step.fstype, flags | (step.readOnly ? MS.RDONLY : 0), step.data ?? null);
    } catch (err) {
      // sysfs in a user namespace needs one's own network namespace (the kernel checks the
      // netns owner): with the host's, or one joined by path, bind the host's /sys as crun does.
      if (step.fstype !== 'sysfs' || (err as { errno?: number }).errno !== EPERM) throw err;
      sys.mount('/sys', target, null, MS.BIND | MS.REC);
      sys.mount(null, target, null, MS.REMOUNT | MS.BIND | mountFlagsAt(target) | flags | (step.readOnly ? MS.RDONLY : 0));
    }
  }
  if (step.propagation) sys.mount(null, target, null, flagBits(step.propagation));
}

/** The host has this very node at the same path (type and numbers): it can be bound. */
function hostHasNode(dev: DeviceNode): boolean {
  try {
    const st = fs.statSync(dev.path);
    const type = dev.mode & 0o170000;
    if (type === 0o010000) return false; // A fifo is made, never shared with the host.
    return (st.mode & 0o170000) === type && major(st.rdev) === dev.major && minor(st.rdev) === dev.minor;
  } catch {
    return false;
  }
}

function major(rdev: number): number {
  return ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
}

/** Namespaced sysctls (OCI linux.sysctl), through the host's /proc/sys: it shows the writer's namespaces. */
function writeSysctls(sysctls: readonly [string, string][] | undefined): void {
  for (const [key, value] of sysctls ?? []) {
    inContext(`write sysctl ${key}`, () => fs.writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value));
  }
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

/**
 * Everything up to and including pivot_root; afterwards `/` is the container's root.
 * `beforePivot` runs once everything is mounted (minipod-oci's hooks, src/process/helper-main.ts).
 */
export function setupRootfs(sys: Syscall, plan: ContainerPlan, beforePivot?: () => void): void {
  const root = plan.rootfs.mountPoint;
  // Modes we create (0666 devices, 0755 dirs) are meant exactly; the umask is ours alone
  // since unshare(CLONE_NEWNS) gave this thread its own fs_struct. prepareExec restores 022.
  sys.umask(0);
  makeMountsPrivate(sys);
  writeSysctls(plan.sysctls);
  if (plan.rootfs.bind) {
    // An OCI bundle's root directory, used in place: a bind onto itself makes it a mount point,
    // which pivot_root needs (runc does the same).
    inContext('bind the root onto itself', () => sys.mount(root, root, null, MS.BIND | MS.REC));
  } else if (plan.inUserNamespace) {
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
      if (hostHasNode(dev)) {
        fs.writeFileSync(target, '', { mode: 0o600 });
        sys.mount(dev.path, target, null, MS.BIND);
        // In a user namespace the bound node is the host's, whose owner is not ours to change
        // (runc binds there without a chown).
        if (plan.newUserNamespace) return;
      } else {
        // A node the host does not have at that path (an OCI config's linux.devices may name
        // any major:minor anywhere in /dev): made, as runc does outside a user namespace.
        sys.mknod(target, dev.mode, dev.major, dev.minor);
      }
      if (dev.uid !== undefined || dev.gid !== undefined) fs.chownSync(target, dev.uid ?? 0, dev.gid ?? 0);
    });
  }
  for (const link of plan.symlinks) {
    const where = resolveInRoot(root, link.path);
    fs.rmSync(where, { force: true });
    fs.symlinkSync(link.target, where);
  }
  for (const p of plan.maskedPaths) inContext(`mask ${p}`, () => maskPath(sys, root, p));
  for (const p of plan.readonlyPaths) inContext(`make ${p} read-only`, () => readonlyPath(sys, root, p));
  beforePivot?.();
  pivotInto(sys, root);
  if (plan.rootfs.readOnly) {
    inContext('make the root read-only', () => sys.mount(null, '/', null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NODEV));
  }
  const propagation = plan.rootfs.propagation;
  if (propagation) inContext('set the propagation of the root', () => sys.mount(null, '/', null, flagBits(propagation)));
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
