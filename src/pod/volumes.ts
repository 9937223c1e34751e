/**
 * Preparing `spec.volumes` on the host before any container starts: hostPath type checks
 * (Kubernetes' semantics, errors naming the field), emptyDir directories, memory-backed
 * emptyDirs as a tmpfs shared by every container that mounts it, named volumes for claims
 * (src/volumes), image volumes (image-volumes.ts), and the files of configMap, secret,
 * downwardAPI and projected volumes (file-volumes.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { ContainerSpec, PodSpec, Volume } from '../manifest/types.js';
import { ensureInRoot } from '../rootfs/secure-join.js';
import type { Syscall } from '../syscall/syscall.js';
import { mountTmpfs } from './host-mounts.js';
import { setVolumeOwnership } from './volume-ownership.js';
import { type MinipodPaths, podVolumeDir } from '../paths.js';
import { preparePodNamedVolumes } from '../volumes/pod-volumes.js';
import { cloneGitRepo } from '../volumes/git-repo.js';
import { prepareImageVolumes } from './image-volumes.js';
import { planFileVolume, randomSuffix, writeFileVolume } from './file-volumes.js';
import type { DownwardValues } from '../plan/downward.js';

function checkHostPath(volume: Volume & { source: { kind: 'hostPath' } }, field: string): void {
  const { path: p, type } = volume.source;
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(p);
  } catch {
    stat = undefined;
  }
  const fail = (what: string): never => {
    throw new UserError(`${field}.hostPath.path: ${p}: ${what}`, { code: 'volume.hostpath' });
  };
  switch (type) {
    case 'DirectoryOrCreate':
      if (!stat) fs.mkdirSync(p, { recursive: true, mode: 0o755 });
      else if (!stat.isDirectory()) fail('exists but is not a directory');
      return;
    case 'FileOrCreate':
      if (!stat) {
        fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
        fs.closeSync(fs.openSync(p, 'a', 0o644));
      } else if (!stat.isFile()) fail('exists but is not a regular file');
      return;
    case 'Directory':
      if (!stat?.isDirectory()) fail(stat ? 'is not a directory' : 'no such directory');
      return;
    case 'File':
      if (!stat?.isFile()) fail(stat ? 'is not a regular file' : 'no such file');
      return;
    case 'Socket':
      if (!stat?.isSocket()) fail('is not a socket');
      return;
    case 'CharDevice':
      if (!stat?.isCharacterDevice()) fail('is not a character device');
      return;
    case 'BlockDevice':
      if (!stat?.isBlockDevice()) fail('is not a block device');
      return;
    case '':
      if (!stat) fail('no such file or directory');
      return;
  }
}

export interface PreparedVolumes {
  /** Host path of each volume. */
  byName: Record<string, string>;
  /** Image id of each image volume, by volume name (the pod's state lists them for `rmi`). */
  imageIds: Record<string, string>;
}

export interface VolumeContext {
  paths: MinipodPaths;
  /** Pin owner for image volumes' images (the daemon pins per pod). */
  pinOwner?: string;
  /** The pod's uid and host, for downwardAPI files. */
  downward: DownwardValues;
}

/**
 * The volumes kubelet applies fsGroup to, and whether they are group-writable: hostPath never
 * (it belongs to the host), image volumes never (read-only layers), the ones kubelet writes
 * itself read-only.
 */
const FS_GROUP_MANAGED: Record<string, 'rw' | 'ro'> = {
  emptyDir: 'rw',
  gitRepo: 'rw',
  persistentVolumeClaim: 'rw',
  ephemeral: 'rw',
  // configMap, secret, downwardAPI and projected: a 0400 key becomes 0440, as on Kubernetes.
  files: 'ro',
};

/** fsGroup on every managed volume, once all of them exist (before any container starts). */
export function applyFsGroup(pod: PodSpec, byName: Record<string, string>): void {
  const { fsGroup, fsGroupChangePolicy } = pod.securityContext;
  if (fsGroup === undefined) return;
  for (const volume of pod.volumes) {
    const kind: string = volume.source.kind;
    const readOnlyClaim = volume.source.kind === 'persistentVolumeClaim' && volume.source.readOnly;
    const access = readOnlyClaim ? 'ro' : FS_GROUP_MANAGED[kind];
    const dir = byName[volume.name];
    if (!access || dir === undefined) continue;
    setVolumeOwnership(dir, { fsGroup, readOnly: access === 'ro', policy: fsGroupChangePolicy });
  }
}

export async function prepareVolumes(sys: Syscall, pod: PodSpec, volumesDir: string, ctx: VolumeContext): Promise<PreparedVolumes> {
  const byName: Record<string, string> = {};
  const imageIds: Record<string, string> = {};
  Object.assign(byName, await preparePodNamedVolumes(ctx.paths, pod));
  const images = await prepareImageVolumes({ ...ctx, sys, volumesDir }, pod);
  for (const [name, v] of Object.entries(images)) {
    byName[name] = v.hostPath;
    imageIds[name] = v.imageId;
  }
  for (const [i, volume] of pod.volumes.entries()) {
    const field = `spec.volumes[${i}]`;
    if (volume.source.kind === 'hostPath') {
      checkHostPath(volume as Volume & { source: { kind: 'hostPath' } }, field);
      byName[volume.name] = volume.source.path;
      continue;
    }
    const dir = podVolumeDir(volumesDir, volume.name);
    if (volume.source.kind === 'files') {
      writeFileVolume(sys, dir, planFileVolume(volume.source, pod, ctx.downward, new Date(), randomSuffix()));
      byName[volume.name] = dir;
      continue;
    }
    if (volume.source.kind === 'gitRepo') {
      // An emptyDir (0777, as kubelet wraps one) with the clone in it.
      fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      await cloneGitRepo(dir, volume.source, `${field}.gitRepo`);
      byName[volume.name] = dir;
      continue;
    }
    if (volume.source.kind !== 'emptyDir') continue;
    // emptyDir is writable by any uid, as in Kubernetes (0777 on disk, a tmpfs's own 01777),
    // unless emptyDir.mode says otherwise.
    const mode = volume.source.mode;
    fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
    fs.chmodSync(dir, mode ?? 0o777);
    if (volume.source.medium === 'Memory') {
      const size = volume.source.sizeLimitBytes;
      mountTmpfs(sys, dir, `mode=${(mode ?? 0o1777).toString(8)}${size ? `,size=${size}` : ''}`);
    }
    byName[volume.name] = dir;
  }
  applyFsGroup(pod, byName);
  return { byName, imageIds };
}

/**
 * subPaths of this container, created inside their volume (never outside it, whatever
 * symlinks the volume holds) and returned as host paths keyed by mount index.
 */
export function prepareSubPaths(container: ContainerSpec, volumes: PreparedVolumes): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const vm of container.volumeMounts) {
    const base = volumes.byName[vm.name];
    if (!base || !vm.subPath) continue;
    const full = ensureInRoot(base, vm.subPath, 'dir');
    resolved[`${vm.name}/${vm.subPath}`] = full;
  }
  return resolved;
}
