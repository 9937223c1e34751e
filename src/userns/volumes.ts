/**
 * Volumes of a pod with its own user namespace, as Kubernetes mounts them for `hostUsers:
 * false` (idmapped mounts): a hostPath, a claim, an image or a configMap/secret/downwardAPI
 * volume holds files of host ids, which the pod's namespace does not map (seen from inside,
 * all `nobody`, and root inside could not write a root-owned folder). The supervisor clones each
 * such bind source idmapped through the pod's namespace (open_tree + mount_setattr, as for the
 * image layers in rootfs.ts) at a staging path beside the container's root, and the helper binds
 * the staging mount instead (a bind keeps the idmap). Through it host id N reads as N inside,
 * and what root inside writes there is host root's, as on Kubernetes. The staging mounts go once
 * the helper has its own copy. A filesystem the kernel cannot idmap is an error naming the mount
 * when the mount is writable; a read-only one falls back to the plain bind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MNT } from '../../native-bindings/constants.js';
import { UserError } from '../errors.js';
import type { ContainerPlan } from '../plan/types.js';
import type { Syscall } from '../syscall/syscall.js';

/** Pure: the staging path of each idmapped bind of the plan, by mount index. */
export function idmappedVolumeStaging(plan: ContainerPlan): Map<number, string> {
  const staging = path.join(path.dirname(plan.rootfs.mountPoint), 'idmapped-volumes');
  const out = new Map<number, string>();
  plan.mounts.forEach((m, i) => {
    if (m.fstype === 'bind' && m.idmap) out.set(i, path.join(staging, String(i)));
  });
  return out;
}

/** Mounts the idmapped clones; returns the plan with the binds' sources moved to them. */
export function mountIdmappedVolumes(sys: Syscall, plan: ContainerPlan, usernsFd: number): ContainerPlan {
  const staging = idmappedVolumeStaging(plan);
  if (staging.size === 0) return plan;
  const mounts = plan.mounts.map((m, i) => {
    const target = staging.get(i);
    if (target === undefined) return m;
    // Searchable by the pod's root (host uid base), which binds the staging mount from here.
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o711 });
    fs.chmodSync(path.dirname(target), 0o711);
    if (fs.statSync(m.source).isDirectory()) fs.mkdirSync(target, { recursive: true, mode: 0o700 });
    else fs.writeFileSync(target, '', { mode: 0o600 });
    try {
      sys.mountIdmapped(m.source, target, usernsFd);
    } catch (err) {
      // Read-only, the plain bind still serves (its files read as nobody, as before idmapped
      // mounts): a Secret volume is a tmpfs, which kernels before 6.3 cannot idmap.
      if (m.readOnly) return m;
      throw new UserError(
        `volume mounted at ${m.destination}: ${m.source} cannot be given the idmapped mount a hostUsers: false pod needs (${(err as Error).message}); run the pod with hostUsers: true, or use another volume`,
        { code: 'userns.idmap', cause: err },
      );
    }
    return { ...m, source: target };
  });
  return { ...plan, mounts };
}

/** Detaches the staging mounts on the host (the helper keeps its copies). */
export function detachIdmappedVolumes(sys: Syscall, plan: ContainerPlan): void {
  for (const target of idmappedVolumeStaging(plan).values()) {
    try {
      sys.umount2(target, MNT.DETACH);
    } catch {
      // Never mounted (an earlier one failed): nothing to take away.
    }
  }
}
