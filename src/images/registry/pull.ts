/**
 * Pulling an image from a registry into the store, and `imagePullPolicy` as Kubernetes has it:
 * Always for `:latest` or no tag, IfNotPresent otherwise (a digest is always IfNotPresent:
 * its content cannot change). Always still only downloads what the store lacks: the manifest
 * is fetched, and blobs and layers already present are reused.
 */
import { promises as fsp } from 'node:fs';
import { UserError } from '../../errors.js';
import { storeImage, type PullProgress } from '../import.js';
import { checkDigest, digestHex } from '../oci/digest.js';
import { hostPlatform, selectManifest } from '../oci/platform.js';
import { layerCompression, MAX_CONFIG_BYTES, parseManifestOrIndex } from '../oci/spec.js';
import { ensureBlob, readBlob } from '../store/blobs.js';
import { blobPath, type StoreDirs } from '../../paths.js';
import { readRecord, readRef, recordComplete, type ImageRecord } from '../store/records.js';
import { RegistryClient, type ClientOptions } from './client.js';
import type { Reference } from './reference.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export function defaultPullPolicy(ref: Reference): PullPolicy {
  if (ref.digest) return 'IfNotPresent';
  return ref.tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The complete local image a name points at, or null. */
export async function localImage(dirs: StoreDirs, name: string): Promise<ImageRecord | null> {
  const ref = await readRef(dirs, name);
  if (!ref) return null;
  const rec = await readRecord(dirs, ref.id.slice(7));
  return rec && (await recordComplete(dirs, rec)) ? rec : null;
}

export async function pullImage(dirs: StoreDirs, ref: Reference, progress?: PullProgress, o: ClientOptions = {}): Promise<ImageRecord> {
  const client = new RegistryClient(ref, o);
  const what = ref.name;
  const top = await client.manifest(ref.digest ?? ref.tag ?? 'latest');
  if (ref.digest) checkDigest(`${what}: manifest`, digestHex(ref.digest), top.hex);
  let doc = parseManifestOrIndex(top.bytes, `${what}: manifest`, top.contentType);
  let bytes = top.bytes;
  let manifestDigest = `sha256:${top.hex}`;
  if (doc.kind === 'index') {
    const d = selectManifest(doc.manifests, hostPlatform(), `${what}: index`);
    const m = await client.manifest(d.digest);
    checkDigest(`${what}: manifest ${d.digest}`, digestHex(d.digest), m.hex);
    doc = parseManifestOrIndex(m.bytes, `${what}: manifest ${d.digest}`, m.contentType ?? d.mediaType);
    if (doc.kind !== 'manifest') throw new UserError(`${what}: nested image indexes are not supported`, { code: 'image.unsupported' });
    bytes = m.bytes;
    manifestDigest = d.digest;
  }
  const manifest = doc;
  progress?.message(`${what}: manifest ${manifestDigest}`);
  const cfg = manifest.config;
  const cfgHex = digestHex(cfg.digest, `${what}: config`);
  if (cfg.size > MAX_CONFIG_BYTES) throw new UserError(`${what}: config of ${cfg.size} bytes, over the limit`, { code: 'image.too-large' });
  await ensureBlob(dirs, cfgHex, cfg.size, `${what}: config ${cfg.digest}`, (partial) => client.blobTo(cfg, partial));
  const configBytes = await readBlob(dirs, cfgHex, MAX_CONFIG_BYTES, `${what}: config`);
  return storeImage(
    dirs,
    {
      source: ref.name,
      manifestBytes: bytes,
      manifestDigest,
      configBytes,
      configDigest: cfg.digest,
      names: [ref.name],
      layers: manifest.layers.map((l, i) => {
        const hex = digestHex(l.digest, `${what}: layer ${i + 1}`);
        const lwhat = `${what}: layer ${l.digest}`;
        return {
          blobDigest: l.digest,
          blobSize: l.size,
          compression: layerCompression(l.mediaType, lwhat),
          file: (onProgress) => ensureBlob(dirs, hex, l.size, lwhat, (partial) => client.blobTo(l, partial, onProgress)),
          // The unpacked layer is what is used; the compressed blob would only double the disk use.
          done: async () => fsp.rm(blobPath(dirs, hex), { force: true }),
        };
      }),
    },
    progress,
  );
}
