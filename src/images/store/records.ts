/**
 * Image records and names. A record (`records/sha256/<config hex>.json`) is the image: its
 * config, its layers (diff ids, bottom first) and where it came from; its id is the config
 * digest, as in Docker and podman. A name (`refs/<sha256 of name>.json`) points at one
 * record; one small file per name, replaced atomically, so no lock guards a shared index.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ImageConfig } from '../types.js';
import { exists, readJsonOrNull, writeFileAtomic } from './fsutil.js';
import { recordPath, refPath, type StoreDirs } from '../../paths.js';
import { layerMeta } from './layers.js';

export interface ImageRecord {
  /** `sha256:<config hex>`. */
  id: string;
  manifestDigest?: string;
  /** Bottom layer first, as in the manifest; each a diff id with the blob it came from. */
  layers: { diffId: string; blobDigest?: string; blobSize?: number }[];
  config: ImageConfig;
  os?: string;
  architecture?: string;
  created?: string;
  /** Bytes of file content of the unpacked layers. */
  size: number;
  /** Where it was first imported from (a registry reference, `oci:/path:tag`, ...). */
  source: string;
  importedAt: string;
}

export interface RefRecord {
  name: string;
  id: string;
  manifestDigest?: string;
  updatedAt: string;
}

export async function readRecord(dirs: StoreDirs, hex: string): Promise<ImageRecord | null> {
  return readJsonOrNull<ImageRecord>(recordPath(dirs, hex));
}

export async function writeRecord(dirs: StoreDirs, rec: ImageRecord): Promise<void> {
  await writeFileAtomic(recordPath(dirs, rec.id.slice('sha256:'.length)), JSON.stringify(rec, null, 2) + '\n');
}

/** True when every layer of the record is unpacked in the store (so the image can run as is). */
export async function recordComplete(dirs: StoreDirs, rec: ImageRecord): Promise<boolean> {
  for (const l of rec.layers) {
    if ((await layerMeta(dirs, l.diffId.slice('sha256:'.length))) === null) return false;
  }
  return true;
}

export async function listRecords(dirs: StoreDirs): Promise<ImageRecord[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dirs.records);
  } catch {
    return [];
  }
  const out: ImageRecord[] = [];
  for (const n of names) {
    if (!/^[a-f0-9]{64}\.json$/.test(n)) continue;
    const r = await readJsonOrNull<ImageRecord>(path.join(dirs.records, n));
    if (r) out.push(r);
  }
  return out;
}

export async function readRef(dirs: StoreDirs, name: string): Promise<RefRecord | null> {
  const r = await readJsonOrNull<RefRecord>(refPath(dirs, name));
  return r && r.name === name ? r : null;
}

export async function writeRef(dirs: StoreDirs, name: string, id: string, manifestDigest?: string): Promise<void> {
  const rec: RefRecord = { name, id, manifestDigest, updatedAt: new Date().toISOString() };
  await writeFileAtomic(refPath(dirs, name), JSON.stringify(rec) + '\n');
}

export async function removeRef(dirs: StoreDirs, name: string): Promise<void> {
  await fsp.rm(refPath(dirs, name), { force: true });
}

export async function listRefs(dirs: StoreDirs): Promise<RefRecord[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dirs.refs);
  } catch {
    return [];
  }
  const out: RefRecord[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    const r = await readJsonOrNull<RefRecord>(path.join(dirs.refs, n));
    if (r && typeof r.name === 'string' && typeof r.id === 'string') out.push(r);
  }
  return out;
}

/** Archive imports: the file's sha256 (+ the tag asked for) -> image id, to skip re-reading. */
export async function readSource(dirs: StoreDirs, key: string): Promise<string | null> {
  const r = await readJsonOrNull<{ id: string }>(path.join(dirs.sources, `${key}.json`));
  return r?.id ?? null;
}

export async function writeSource(dirs: StoreDirs, key: string, id: string): Promise<void> {
  await writeFileAtomic(path.join(dirs.sources, `${key}.json`), JSON.stringify({ id }) + '\n');
}

export { exists };
