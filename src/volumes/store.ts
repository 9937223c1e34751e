/**
 * Named volumes: directories under <lib>/volumes that outlive pods (podman's local driver,
 * what `persistentVolumeClaim` and `kube play` use).
 *
 *   <lib>/volumes/<name>/volume.json   the record (who made it, what the claim asked for)
 *   <lib>/volumes/<name>/_data/        the files, bind-mounted into containers
 *   <lib>/volumes/.lock                flock: creation, removal and the in-use check are one step
 *
 * In use means: a pod whose record exists (running, or stopped but restartable) names the
 * volume in its spec (`<run>/pods/<pod>/spec.json`, written before the pod touches anything).
 * That list is the reference count; a pod that starts while `volume rm` holds the lock either
 * sees the volume gone and makes a fresh one (created on first use), or is listed already and
 * the removal is refused. So data in use is never removed.
 */
import { randomBytes } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { ClaimSpec, PodSpec } from '../manifest/types.js';
import { ephemeralVolumeName } from '../manifest/claims.js';
import { type MinipodPaths, podsRunDir, volumeDir, volumeFiles, volumeRecordFile, volumesLockFile, volumesRoot } from '../paths.js';
import { withLock } from '../state/lock.js';
import { readPodSpec } from '../state/pod-state.js';

/** Who made a volume: `volume create`, a PVC document, a pod's first use, a StatefulSet's template, an ephemeral volume. */
export type VolumeOrigin = 'cli' | 'PersistentVolumeClaim' | 'pod' | 'StatefulSet' | 'ephemeral';

export interface VolumeRecord {
  name: string;
  createdAt: string;
  origin: VolumeOrigin;
  labels: Record<string, string>;
  /** What the claim asked for; recorded, not enforced. */
  claim?: ClaimSpec;
  /** Set for an ephemeral volume: the pod it was made for, and is removed with. */
  ephemeralFor?: string;
  /** `StatefulSet/<name>`: `rm` of that object removes the volume too (whenDeleted: Delete). */
  deleteWith?: string;
}

/** podman's rule for volume names, bounded; claim names (DNS subdomains) always pass. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function volumeNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'must be at most 253 characters';
  if (!VOLUME_NAME.test(name)) return "must consist of letters, digits, '_', '.' and '-', starting with a letter or digit";
  return undefined;
}

/** Creation, removal and the in-use check, one at a time across processes. */
export async function withVolumesLock<T>(paths: MinipodPaths, body: () => Promise<T>): Promise<T> {
  const root = volumesRoot(paths);
  await fsp.mkdir(root, { recursive: true, mode: 0o700 });
  return withLock(volumesLockFile(paths), 'exclusive', 'the volume store', body, { timeoutMs: 60_000 });
}

export function readVolume(paths: MinipodPaths, name: string): VolumeRecord | undefined {
  if (volumeNameProblem(name)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(volumeRecordFile(paths, name), 'utf8')) as VolumeRecord;
  } catch {
    return undefined;
  }
}

export function requireVolume(paths: MinipodPaths, name: string): VolumeRecord {
  const v = readVolume(paths, name);
  // podman: exit 1 for a volume that does not exist.
  if (!v) throw new UserError(`no volume with name "${name}" found: no such volume`, { code: 'volume.not-found', exitCode: 1 });
  return v;
}

export function listVolumes(paths: MinipodPaths): VolumeRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(volumesRoot(paths));
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .sort()
    .flatMap((n) => readVolume(paths, n) ?? []);
}

/** Makes the volume, complete or not at all (a temp dir renamed into place). Call under the lock. */
export function createVolumeUnlocked(paths: MinipodPaths, record: VolumeRecord): void {
  const root = volumesRoot(paths);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const tmp = path.join(root, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    fs.mkdirSync(tmp, { mode: 0o700 });
    // Writable by any uid, as Kubernetes' local volume provisioners make them: a non-root
    // container must be able to write its claim.
    const files = volumeFiles(tmp);
    fs.mkdirSync(files.data);
    fs.chmodSync(files.data, 0o777);
    fs.writeFileSync(files.record, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, volumeDir(paths, record.name));
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

export function newVolumeRecord(name: string, origin: VolumeOrigin, extra: Partial<VolumeRecord> = {}): VolumeRecord {
  return { name, createdAt: new Date().toISOString(), origin, labels: {}, ...extra };
}

/** `volume create`: podman refuses an existing name unless --ignore. Returns whether it was made. */
export async function createVolume(paths: MinipodPaths, record: VolumeRecord, ignoreExisting = false): Promise<boolean> {
  const p = volumeNameProblem(record.name);
  if (p) throw new UserError(`volume name ${JSON.stringify(record.name)} ${p}`, { code: 'volume.invalid' });
  return withVolumesLock(paths, async () => {
    if (fs.existsSync(volumeDir(paths, record.name))) {
      if (ignoreExisting) return false;
      throw new UserError(`volume with name ${record.name} already exists: volume already exists`, { code: 'volume.exists' });
    }
    createVolumeUnlocked(paths, record);
    return true;
  });
}

/** Named volumes a pod's spec uses (claims, and its ephemeral volumes under their names). */
export function namedVolumesOf(spec: Pick<PodSpec, 'name' | 'volumes'>): string[] {
  const out: string[] = [];
  for (const v of spec.volumes ?? []) {
    if (v.source.kind === 'persistentVolumeClaim') out.push(v.source.claimName);
    else if (v.source.kind === 'ephemeral') out.push(ephemeralVolumeName(spec.name, v.name));
  }
  return out;
}

/** Volume name -> the pods whose record names it. */
export function volumesInUse(paths: MinipodPaths): Map<string, string[]> {
  const used = new Map<string, string[]>();
  let pods: string[];
  try {
    pods = fs.readdirSync(podsRunDir(paths)).sort();
  } catch {
    return used;
  }
  for (const pod of pods) {
    const spec = readPodSpec(paths, pod);
    if (!spec) continue; // A pod between its name claim and its spec: it has not touched a volume yet.
    for (const name of new Set(namedVolumesOf(spec))) used.set(name, [...(used.get(name) ?? []), pod]);
  }
  return used;
}

export class VolumeInUseError extends UserError {
  constructor(name: string, pods: string[]) {
    // podman's words and exit code 2, naming the users (pods here, containers there).
    super(`volume ${name} is being used by the following pod(s): ${pods.join(', ')}: volume is being used`, {
      code: 'volume.in-use',
      exitCode: 2,
    });
  }
}

function removeUnlocked(paths: MinipodPaths, name: string): void {
  // Renamed first, so a half-removed volume is never found under its name.
  const dir = volumeDir(paths, name);
  const doomed = path.join(volumesRoot(paths), `.rm-${randomBytes(6).toString('hex')}`);
  fs.renameSync(dir, doomed);
  fs.rmSync(doomed, { recursive: true, force: true, maxRetries: 3 });
}

/** `volume rm`: refused (exit 2) while a pod's record names the volume. */
export async function removeVolume(paths: MinipodPaths, name: string): Promise<void> {
  await withVolumesLock(paths, async () => {
    requireVolume(paths, name);
    const users = volumesInUse(paths).get(name);
    if (users) throw new VolumeInUseError(name, users);
    removeUnlocked(paths, name);
  });
}

/** `volume prune`: every volume no pod uses. Returns the names removed. */
export async function pruneVolumes(paths: MinipodPaths): Promise<string[]> {
  return withVolumesLock(paths, async () => {
    const used = volumesInUse(paths);
    const removed: string[] = [];
    for (const v of listVolumes(paths)) {
      if (used.has(v.name)) continue;
      removeUnlocked(paths, v.name);
      removed.push(v.name);
    }
    // Leftovers of a crash between rename and removal, or during a creation.
    for (const n of fs.readdirSync(volumesRoot(paths))) {
      if (n.startsWith('.rm-') || n.startsWith('.tmp-')) fs.rmSync(path.join(volumesRoot(paths), n), { recursive: true, force: true });
    }
    return removed;
  });
}

/**
 * Removes the volumes that go with a workload object (`rm StatefulSet/db` of one with
 * `whenDeleted: Delete`), except those a pod record still names; returns the names removed.
 */
export async function removeVolumesOfOwner(paths: MinipodPaths, owner: string): Promise<string[]> {
  if (!fs.existsSync(volumesRoot(paths))) return [];
  return withVolumesLock(paths, async () => {
    const used = volumesInUse(paths);
    const doomed = listVolumes(paths).filter((v) => v.deleteWith === owner && !used.has(v.name));
    for (const v of doomed) removeUnlocked(paths, v.name);
    return doomed.map((v) => v.name);
  });
}

/** Removes the ephemeral volumes made for `pod` (its teardown); returns their names. */
export async function removeEphemeralVolumes(paths: MinipodPaths, pod: string): Promise<string[]> {
  if (!fs.existsSync(volumesRoot(paths))) return [];
  return withVolumesLock(paths, async () => {
    const mine = listVolumes(paths).filter((v) => v.ephemeralFor === pod);
    for (const v of mine) removeUnlocked(paths, v.name);
    return mine.map((v) => v.name);
  });
}
