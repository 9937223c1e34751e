/**
 * `oci:PATH[:TAG]`: an OCI image layout directory (umoci, skopeo, buildah write them). The
 * entry of index.json whose `org.opencontainers.image.ref.name` is TAG (or the only entry)
 * is imported; a nested index is narrowed to the host's platform. Blobs are read in place,
 * each verified against its digest; nothing is copied but the manifest and config.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { storeImage, type ImageInput, type PullProgress } from '../import.js';
import { checkDigest, digestHex, sha256Hex } from '../oci/digest.js';
import { hostPlatform, selectManifest } from '../oci/platform.js';
import { layerCompression, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseManifestOrIndex, type Descriptor } from '../oci/spec.js';
import type { StoreDirs } from '../../paths.js';
import type { ImageRecord } from '../store/records.js';
import { readSmallFile } from './local-files.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

/** Splits `PATH[:TAG]`: the part after the last `:` is a tag when it contains no `/`. */
export function splitPathTag(rest: string): { file: string; tag?: string } {
  const i = rest.lastIndexOf(':');
  if (i > 0 && !rest.slice(i + 1).includes('/') && rest.slice(i + 1) !== '') return { file: rest.slice(0, i), tag: rest.slice(i + 1) };
  return { file: rest };
}

export interface LayoutOptions {
  /** The layout came out of an untrusted archive: read no symlinks. */
  noFollow: boolean;
  source: string;
  names?: string[];
}

export async function importOciLayout(
  dirs: StoreDirs,
  dir: string,
  tag: string | undefined,
  o: LayoutOptions,
  progress?: PullProgress,
): Promise<ImageRecord> {
  const what = o.source;
  const layoutFile = await readSmallFile(path.join(dir, 'oci-layout'), 4096, `${what}: oci-layout`, o.noFollow).catch((err: unknown) => {
    if (err instanceof UserError) throw new UserError(`${what}: not an OCI image layout (no oci-layout file)`, { code: 'image.invalid' });
    throw err;
  });
  let version: unknown;
  try {
    version = (JSON.parse(layoutFile.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new UserError(`${what}: oci-layout: unsupported imageLayoutVersion ${JSON.stringify(version)}`, { code: 'image.unsupported' });
  }
  const indexBytes = await readSmallFile(path.join(dir, 'index.json'), MAX_MANIFEST_BYTES, `${what}: index.json`, o.noFollow);
  const index = parseManifestOrIndex(indexBytes, `${what}: index.json`, 'application/vnd.oci.image.index.v1+json');
  if (index.kind !== 'index') throw new UserError(`${what}: index.json is not an image index`, { code: 'image.invalid' });
  const entry = pickByTag(index.manifests, tag, what);

  const blob = (d: Descriptor, max: number, bwhat: string): Promise<Buffer> => readBlobFile(dir, d, max, bwhat, o.noFollow);
  let desc = entry;
  let manifestBytes = await blob(desc, MAX_MANIFEST_BYTES, `${what}: manifest ${desc.digest}`);
  let doc = parseManifestOrIndex(manifestBytes, `${what}: manifest ${desc.digest}`, desc.mediaType);
  if (doc.kind === 'index') {
    desc = selectManifest(doc.manifests, hostPlatform(), `${what}: index ${desc.digest}`);
    manifestBytes = await blob(desc, MAX_MANIFEST_BYTES, `${what}: manifest ${desc.digest}`);
    doc = parseManifestOrIndex(manifestBytes, `${what}: manifest ${desc.digest}`, desc.mediaType);
    if (doc.kind !== 'manifest') throw new UserError(`${what}: nested image indexes are not supported`, { code: 'image.unsupported' });
  }
  const manifest = doc;
  const configBytes = await blob(manifest.config, MAX_CONFIG_BYTES, `${what}: config ${manifest.config.digest}`);
  const input: ImageInput = {
    source: o.source,
    manifestBytes,
    manifestDigest: desc.digest,
    configBytes,
    configDigest: manifest.config.digest,
    names: o.names,
    layers: manifest.layers.map((l, i) => ({
      blobDigest: l.digest,
      blobSize: l.size,
      compression: layerCompression(l.mediaType, `${what}: layer ${i + 1}`),
      // Read in place: ensureLayer verifies both the blob digest and the diff id while unpacking.
      file: async () => {
        const p = path.join(dir, 'blobs', 'sha256', digestHex(l.digest));
        const st = await (o.noFollow ? fsp.lstat(p) : fsp.stat(p)).catch(() => null);
        if (!st || !st.isFile())
          throw new UserError(`${what}: layer blob ${l.digest} is missing or not a regular file`, { code: 'image.invalid' });
        if (st.size !== l.size)
          throw new UserError(`${what}: layer blob ${l.digest} is ${st.size} bytes, its descriptor says ${l.size}: truncated or tampered`, {
            code: 'image.digest-mismatch',
          });
        return p;
      },
    })),
  };
  return storeImage(dirs, input, progress);
}

function pickByTag(manifests: Descriptor[], tag: string | undefined, what: string): Descriptor {
  const tags = manifests.map((m) => m.annotations?.[REF_NAME]).filter((t): t is string => t !== undefined);
  if (tag !== undefined) {
    const found = manifests.find((m) => m.annotations?.[REF_NAME] === tag);
    if (!found)
      throw new UserError(`${what}: no image tagged ${JSON.stringify(tag)} (tags: ${tags.join(', ') || 'none'})`, {
        code: 'image.not-found',
      });
    return found;
  }
  if (manifests.length === 1) return manifests[0]!;
  if (manifests.length === 0) throw new UserError(`${what}: the layout holds no image`, { code: 'image.invalid' });
  throw new UserError(`${what}: the layout holds ${manifests.length} images; name one with :TAG (tags: ${tags.join(', ') || 'none'})`, {
    code: 'image.invalid',
  });
}

async function readBlobFile(dir: string, d: Descriptor, max: number, what: string, noFollow: boolean): Promise<Buffer> {
  const hex = digestHex(d.digest, what);
  if (d.size > max) throw new UserError(`${what}: larger than ${max} bytes`, { code: 'image.too-large' });
  const data = await readSmallFile(path.join(dir, 'blobs', 'sha256', hex), max, what, noFollow);
  if (data.length !== d.size)
    throw new UserError(`${what}: ${data.length} bytes, its descriptor says ${d.size}: truncated or tampered`, {
      code: 'image.digest-mismatch',
    });
  checkDigest(what, hex, sha256Hex(data));
  return data;
}
