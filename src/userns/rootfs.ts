/**
 * A container root for a pod in its own user namespace, made by the supervisor on the host.
 *
 * Image layers belong to host root, which the pod's namespace does not map: seen from inside,
 * every file would be owned by nobody and root in the container could not even write its own
 * /etc. So each lower layer is mounted idmapped (open_tree(OPEN_TREE_CLONE), then
 * mount_setattr(MOUNT_ATTR_IDMAP) with the pod's user namespace, kernel 5.12+; overlayfs takes
 * idmapped lower layers since 5.19): through it host uid N reads as base+N, which the pod sees
 * as N. The overlay is mounted by host root, as for any pod (trusted xattrs, whiteouts and
 * opaque directories work as usual), with the empty upper dir owned by the pod's root, so what
 * the container writes lands in the upper dir as base+uid on the host. The idmapped layer mounts
 * are only needed while the overlay is mounted (it keeps private clones of its layers) and go
 * at once.
 *
 * The overlay is mounted at the container's mount point in the host's mount namespace just
 * before the helper gets its plan; the helper's unshare(CLONE_NEWNS) copies it, and the
 * supervisor detaches the host's copy once the helper has exec'd (or failed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MNT, MS } from '../../native-bindings/constants.js';
import type { RootfsSpec } from '../plan/types.js';
import { idmappedLayersDir } from '../paths.js';
import { overlayOptions } from '../rootfs/mount-rootfs.js';
import type { Syscall } from '../syscall/syscall.js';
import type { IdRange } from './ranges.js';

export interface IdmappedRootfsPlan {
  /** Dirs to chown to the pod's root before mounting (the empty upper and work dirs). */
  chown: { path: string; uid: number; gid: number }[];
  /** Each lower layer, idmapped, attached at a staging dir. */
  idmapped: { source: string; target: string }[];
  overlay: { target: string; options: string };
  /** Staging mounts to detach once the overlay holds its clones. */
  detach: string[];
}

/** Pure: what mountIdmappedRootfs does for this rootfs. Staging dirs sit beside the mount point. */
export function planIdmappedRootfs(rootfs: RootfsSpec, range: IdRange): IdmappedRootfsPlan {
  const staging = idmappedLayersDir(rootfs.mountPoint);
  const idmapped = rootfs.lowerDirs.map((source, i) => ({ source, target: path.join(staging, String(i)) }));
  return {
    chown: [rootfs.upperDir, rootfs.workDir].map((p) => ({ path: p, uid: range.base, gid: range.base })),
    idmapped,
    overlay: {
      target: rootfs.mountPoint,
      options: overlayOptions({ ...rootfs, lowerDirs: idmapped.map((m) => m.target) }),
    },
    detach: idmapped.map((m) => m.target),
  };
}

/** Executes the plan; `usernsFd` is an open /proc/<pid>/ns/user of the pod. */
export function mountIdmappedRootfs(sys: Syscall, plan: IdmappedRootfsPlan, usernsFd: number): void {
  for (const c of plan.chown) fs.chownSync(c.path, c.uid, c.gid);
  const mounted: string[] = [];
  try {
    for (const m of plan.idmapped) {
      fs.mkdirSync(m.target, { recursive: true, mode: 0o700 });
      sys.mountIdmapped(m.source, m.target, usernsFd);
      mounted.push(m.target);
    }
    sys.mount('overlay', plan.overlay.target, 'overlay', MS.NODEV, plan.overlay.options);
  } finally {
    for (const target of plan.detach) {
      if (mounted.includes(target)) sys.umount2(target, MNT.DETACH);
    }
  }
}

/** Takes the host's copy of the overlay away (the helper has its own by now). */
export function detachHostRootfs(sys: Syscall, mountPoint: string): void {
  try {
    sys.umount2(mountPoint, MNT.DETACH);
  } catch {
    // Not mounted (the mount failed): nothing to take away.
  }
}
