/**
 * Removing images: `rmi` and `image prune`, under the store's exclusive lock (imports hold it
 * shared, so nothing being written is removed). What pods use is never removed:
 * - every pod's state (`podStateFile: <runDir>/pods/*\/state.json`, `containers[].imageId` and the image
 *   volumes' `volumeImageIds`), running or only
 *   recorded (a stopped pod can be restarted from its spec);
 * - pins: `pins/<pid>[.<pod>]/<hex>`, written by resolveImage in the process that will run the
 *   pod (the daemon, per pod), so an image is kept between its resolution and the pod's first
 *   state write; the pod drops its pins then (unpinImages). A pin of a dead process counts for
 *   nothing and is removed by prune.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { parseReference } from '../registry/reference.js';
import { withLock } from '../../state/lock.js';
import { type MinipodPaths, podStateFile, podsRunDir, recordPath, storeDirs, type StoreDirs } from '../../paths.js';
import { listRecords, listRefs, readRecord, removeRef, type ImageRecord, type RefRecord } from './records.js';
import { pidExists } from '../../state/pod-state.js';

function pinDir(dirs: StoreDirs, owner?: string): string {
  return path.join(dirs.pins, owner === undefined ? String(process.pid) : `${process.pid}.${owner}`);
}

/** Marks image `id` as about to be used by this process, for `owner` (see the module comment). */
export async function pinImage(dirs: StoreDirs, id: string, owner?: string): Promise<void> {
  const dir = pinDir(dirs, owner);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await fsp.writeFile(path.join(dir, id.replace(/^sha256:/, '')), '');
}

/** Drops the pins of `owner` in this process: its pod's state names its images now. */
export function unpinImages(dirs: StoreDirs, owner: string): Promise<void> {
  return fsp.rm(pinDir(dirs, owner), { recursive: true, force: true });
}

/** Image ids in use, with the pods using them (`pid <n>` for a pin). */
export async function imagesInUse(paths: MinipodPaths, dirs: StoreDirs): Promise<Map<string, string[]>> {
  const used = new Map<string, string[]>();
  const add = (id: string, by: string): void => {
    used.set(id, [...(used.get(id) ?? []), by]);
  };
  for (const pod of await fsp.readdir(podsRunDir(paths)).catch(() => [] as string[])) {
    try {
      const state = JSON.parse(await fsp.readFile(podStateFile(paths, pod), 'utf8')) as {
        containers?: { imageId?: unknown }[];
        volumeImageIds?: unknown;
      };
      for (const c of state.containers ?? []) if (typeof c.imageId === 'string') add(c.imageId, pod);
      if (Array.isArray(state.volumeImageIds)) for (const id of state.volumeImageIds) if (typeof id === 'string') add(id, pod);
    } catch {
      // no state (yet): its supervisor's pins cover it
    }
  }
  for (const entry of await fsp.readdir(dirs.pins).catch(() => [] as string[])) {
    const pid = /^(\d+)(?:\.|$)/.exec(entry)?.[1];
    if (!pid || !pidExists(Number(pid))) continue;
    for (const hex of await fsp.readdir(path.join(dirs.pins, entry)).catch(() => [] as string[])) add(`sha256:${hex}`, `process ${pid}`);
  }
  return used;
}

export interface ImageRow {
  record: ImageRecord;
  names: string[];
}

export async function listImages(dirs: StoreDirs): Promise<ImageRow[]> {
  const refs = await listRefs(dirs);
  return (await listRecords(dirs)).map((record) => ({
    record,
    names: refs
      .filter((r) => r.id === record.id)
      .map((r) => r.name)
      .sort(),
  }));
}

/** An image named by a reference, a full id or a unique id prefix (6+ hex digits). */
async function findImage(dirs: StoreDirs, arg: string): Promise<{ record: ImageRecord; byName?: RefRecord }> {
  const refs = await listRefs(dirs);
  let normalised: string | undefined;
  try {
    normalised = parseReference(arg).name;
  } catch {
    normalised = undefined;
  }
  const ref = refs.find((r) => r.name === arg || r.name === normalised);
  if (ref) {
    const record = await readRecord(dirs, ref.id.slice(7));
    if (record) return { record, byName: ref };
  }
  const hex = arg.replace(/^sha256:/, '');
  if (/^[a-f0-9]{6,64}$/.test(hex)) {
    const matches = (await listRecords(dirs)).filter((r) => r.id.slice(7).startsWith(hex));
    if (matches.length === 1) return { record: matches[0]! };
    if (matches.length > 1)
      throw new UserError(`${arg}: ambiguous image id prefix (${matches.length} images)`, { code: 'image.ambiguous' });
  }
  throw new UserError(`${arg}: no such image`, { code: 'image.not-found' });
}

export interface RemoveResult {
  untagged: string[];
  deleted: string[];
}

/**
 * `rmi`, like podman's: a name of an image with several names is untagged; otherwise the image
 * is deleted, unless a pod uses it: then refused, or with `force` only its names are removed
 * (the image stays, dangling, until its pods are gone and `image prune` runs).
 */
export async function removeImage(paths: MinipodPaths, arg: string, force: boolean): Promise<RemoveResult> {
  const dirs = storeDirs(paths);
  await fsp.mkdir(dirs.root, { recursive: true, mode: 0o700 });
  return withLock(dirs.lock, 'exclusive', 'the image store (an import is running)', async () => {
    const { record, byName } = await findImage(dirs, arg);
    const names = (await listRefs(dirs)).filter((r) => r.id === record.id);
    if (byName && names.length > 1) {
      await removeRef(dirs, byName.name);
      return { untagged: [byName.name], deleted: [] };
    }
    let users = (await imagesInUse(paths, dirs)).get(record.id);
    // Held only by pins: a pod starting, or a supervisor exiting just after `rm`. Give the
    // latter a moment rather than refusing.
    for (let i = 0; i < 100 && users && users.every((u) => u.startsWith('process ')); i++) {
      await new Promise((r) => setTimeout(r, 100));
      users = (await imagesInUse(paths, dirs)).get(record.id);
    }
    if (users && !force) {
      throw new UserError(
        `image ${record.id.slice(7, 19)} is in use by ${[...new Set(users)].map((u) => (u.startsWith('process ') ? `a starting pod (${u})` : `pod ${u}`)).join(', ')}: remove the pod first (minipod rm), or use -f to remove only its names`,
        { code: 'image.in-use' },
      );
    }
    for (const n of names) await removeRef(dirs, n.name);
    if (users) return { untagged: names.map((n) => n.name), deleted: [] };
    await fsp.rm(recordPath(dirs, record.id.slice(7)), { force: true });
    await sweep(paths, dirs, await imagesInUse(paths, dirs));
    return { untagged: names.map((n) => n.name), deleted: [record.id] };
  });
}

export interface PruneResult {
  images: string[];
  layers: number;
  blobs: number;
  rootfs: number;
  bytesFreed: number;
}

/**
 * `image prune`: dangling images (no name; `all`: every image) that no pod uses, then every
 * layer, blob, rootfs-tarball entry and temp file nothing references any more.
 */
export async function pruneImages(paths: MinipodPaths, all: boolean): Promise<PruneResult> {
  const dirs = storeDirs(paths);
  await fsp.mkdir(dirs.root, { recursive: true, mode: 0o700 });
  return withLock(dirs.lock, 'exclusive', 'the image store (an import is running)', async () => {
    const inUse = await imagesInUse(paths, dirs);
    const refs = await listRefs(dirs);
    const removed: string[] = [];
    for (const rec of await listRecords(dirs)) {
      if (inUse.has(rec.id)) continue;
      const named = refs.some((r) => r.id === rec.id);
      if (named && !all) continue;
      for (const r of refs.filter((x) => x.id === rec.id)) await removeRef(dirs, r.name);
      await fsp.rm(recordPath(dirs, rec.id.slice(7)), { force: true });
      removed.push(rec.id);
    }
    // Names whose image is gone (a hand-edited store) are dropped too.
    const ids = new Set((await listRecords(dirs)).map((r) => r.id));
    for (const r of await listRefs(dirs)) if (!ids.has(r.id)) await removeRef(dirs, r.name);
    const swept = await sweep(paths, dirs, inUse);
    return { images: removed, ...swept };
  });
}

async function du(p: string): Promise<number> {
  let total = 0;
  const st = await fsp.lstat(p).catch(() => null);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  for (const n of await fsp.readdir(p)) total += await du(path.join(p, n));
  return total;
}

/** Removes what no remaining record (and no pod, for rootfs entries) references. */
async function sweep(paths: MinipodPaths, dirs: StoreDirs, inUse: Map<string, string[]>): Promise<Omit<PruneResult, 'images'>> {
  const records = await listRecords(dirs);
  const keepLayers = new Set(records.flatMap((r) => r.layers.map((l) => l.diffId.slice(7))));
  const keepBlobs = new Set(records.flatMap((r) => [r.id.slice(7), ...(r.manifestDigest ? [r.manifestDigest.slice(7)] : [])]));
  let layers = 0;
  let blobs = 0;
  let rootfs = 0;
  let bytesFreed = 0;
  const rm = async (p: string): Promise<void> => {
    bytesFreed += await du(p);
    await fsp.rm(p, { recursive: true, force: true });
  };
  for (const n of await fsp.readdir(dirs.layers).catch(() => [] as string[])) {
    if (keepLayers.has(n)) continue;
    await rm(path.join(dirs.layers, n)); // also .tmp-* of crashed unpacks: no import runs now
    if (!n.startsWith('.')) layers++;
  }
  for (const n of await fsp.readdir(dirs.links).catch(() => [] as string[])) {
    const link = path.join(dirs.links, n);
    const ok = await fsp.stat(link).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!ok) await fsp.rm(link, { force: true });
  }
  for (const n of await fsp.readdir(dirs.blobs).catch(() => [] as string[])) {
    if (keepBlobs.has(n)) continue;
    await rm(path.join(dirs.blobs, n));
    blobs++;
  }
  for (const n of await fsp.readdir(dirs.sources).catch(() => [] as string[])) {
    const id = await fsp.readFile(path.join(dirs.sources, n), 'utf8').then(
      (t) => (JSON.parse(t) as { id?: string }).id,
      () => undefined,
    );
    if (!id || !records.some((r) => r.id === id)) await fsp.rm(path.join(dirs.sources, n), { force: true });
  }
  // Partial downloads, lock files and extractions: nothing runs while we hold the lock.
  for (const n of await fsp.readdir(dirs.tmp).catch(() => [] as string[])) await rm(path.join(dirs.tmp, n));
  const rootfsDir = dirs.rootfs;
  for (const n of await fsp.readdir(rootfsDir).catch(() => [] as string[])) {
    if (n.startsWith('.tmp-')) continue; // an unpack in progress (publishOnce sweeps crashed ones)
    if (inUse.has(`sha256:${n}`)) continue;
    await rm(path.join(rootfsDir, n));
    rootfs++;
  }
  for (const entry of await fsp.readdir(dirs.pins).catch(() => [] as string[])) {
    const pid = /^(\d+)(?:\.|$)/.exec(entry)?.[1];
    if (!pid || !isAliveSafe(Number(pid))) await fsp.rm(path.join(dirs.pins, entry), { recursive: true, force: true });
  }
  return { layers, blobs, rootfs, bytesFreed };
}

function isAliveSafe(pid: number): boolean {
  return pid === process.pid ? false : pidExists(pid);
}
