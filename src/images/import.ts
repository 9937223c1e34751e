/**
 * Storing an image, whatever it came from (OCI layout, archive, registry): the config is
 * verified against its digest, every layer is unpacked once into the layer store and verified
 * against the config's diff ids, then the record is written. Returns the record; `toResolved`
 * turns a record into overlay lower dirs.
 */
import path from 'node:path';
import { UserError } from '../errors.js';
import { checkDigest, sha256Hex } from './oci/digest.js';
import { parseConfig, type LayerCompression } from './oci/spec.js';
import { checkLowerDirPath } from './rootfs-dir.js';
import { writeBlob } from './store/blobs.js';
import { ensureLayer, layerLink, layerMeta } from './store/layers.js';
import type { StoreDirs } from '../paths.js';
import { writeRecord, writeRef, type ImageRecord } from './store/records.js';
import type { ResolveContext, ResolvedImage } from './types.js';

export interface PullProgress {
  /** One line per event when not on a terminal; a live table on one. */
  layer(id: string, status: 'exists' | 'downloading' | 'unpacking' | 'done', done?: number, total?: number): void;
  message(text: string): void;
}

export interface LayerInput {
  /** The blob's digest as the manifest names it (compressed); absent for docker archives. */
  blobDigest?: string;
  blobSize?: number;
  compression: LayerCompression;
  /** A local file holding the blob, fetched (and verified) on demand. */
  file(progress?: (done: number, total?: number) => void): Promise<string>;
  /** Called once the layer is unpacked (a downloaded blob is deleted then). */
  done?(): Promise<void>;
}

export interface ImageInput {
  /** For messages and the record: `oci:/x:tag`, `docker.io/library/nginx:1.25`, ... */
  source: string;
  manifestBytes?: Buffer;
  manifestDigest?: string;
  configBytes: Buffer;
  /** When the source names the config by digest; verified. */
  configDigest?: string;
  layers: LayerInput[];
  names?: string[];
}

/** overlayfs mount options must fit in one page; keep room for upperdir= and workdir=. */
export const MAX_LOWERDIR_BYTES = 3072;
const PARALLEL_LAYERS = 3;

export async function storeImage(dirs: StoreDirs, input: ImageInput, progress?: PullProgress): Promise<ImageRecord> {
  const configHex = sha256Hex(input.configBytes);
  if (input.configDigest) checkDigest(`${input.source}: config ${input.configDigest}`, input.configDigest.slice(7), configHex);
  const what = `${input.source}: config`;
  const parsed = parseConfig(input.configBytes, what);
  if (parsed.diffIds.length !== input.layers.length) {
    throw new UserError(
      `${input.source}: the manifest has ${input.layers.length} layers but the config lists ${parsed.diffIds.length} diff ids`,
      { code: 'image.invalid' },
    );
  }
  if (parsed.os !== undefined && parsed.os !== 'linux') {
    throw new UserError(`${input.source}: an image for ${parsed.os}, not linux`, { code: 'image.no-platform' });
  }
  // The caller holds the store's shared lock (kinds.ts), so rmi/prune wait for us.
  {
    let size = 0;
    const queue = input.layers.map((l, i) => ({ l, i }));
    let failed = false;
    const worker = async (): Promise<void> => {
      for (let job = failed ? undefined : queue.shift(); job; job = failed ? undefined : queue.shift()) {
        const { l, i } = job;
        const diffHex = parsed.diffIds[i]!.slice(7);
        const id = (l.blobDigest ?? parsed.diffIds[i]!).slice(7, 19);
        const lwhat = `${input.source}: layer ${i + 1}/${input.layers.length} (${l.blobDigest ?? parsed.diffIds[i]})`;
        const have = await layerMeta(dirs, diffHex);
        if (have) {
          progress?.layer(id, 'exists');
          size += have.stats.bytes;
          continue;
        }
        const meta = await ensureLayer(
          dirs,
          diffHex,
          async () => {
            const f = await l.file((done, total) => progress?.layer(id, 'downloading', done, total));
            progress?.layer(id, 'unpacking');
            return f;
          },
          l.compression,
          lwhat,
          { blobDigest: l.blobDigest },
        );
        await l.done?.();
        size += meta.stats.bytes;
        progress?.layer(id, 'done');
      }
    };
    // On a failure the other workers finish the layer they are on (so no unpack is cut off
    // by the process exiting) and start no new one; then the first error is reported.
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(PARALLEL_LAYERS, queue.length) }, () =>
        worker().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    await writeBlob(dirs, input.configBytes, what);
    if (input.manifestBytes) await writeBlob(dirs, input.manifestBytes, `${input.source}: manifest`);
    const rec: ImageRecord = {
      id: `sha256:${configHex}`,
      manifestDigest: input.manifestDigest,
      layers: parsed.diffIds.map((d, i) => ({ diffId: d, blobDigest: input.layers[i]!.blobDigest, blobSize: input.layers[i]!.blobSize })),
      config: parsed.config,
      os: parsed.os,
      architecture: parsed.architecture,
      created: parsed.created,
      size,
      source: input.source,
      importedAt: new Date().toISOString(),
    };
    await writeRecord(dirs, rec);
    for (const n of input.names ?? []) await writeRef(dirs, n, rec.id, input.manifestDigest);
    return rec;
  }
}

/** Overlay lower dirs (topmost first, through the short links) and the config of a record. */
export async function toResolved(ctx: ResolveContext, dirs: StoreDirs, rec: ImageRecord): Promise<ResolvedImage> {
  if (rec.layers.length === 0) throw ctx.fail(`${ctx.image}: the image has no layers`, 'image.invalid');
  const layers: string[] = [];
  for (const l of [...rec.layers].reverse()) {
    const link = await layerLink(dirs, l.diffId.slice(7));
    checkLowerDirPath(ctx, link);
    layers.push(link);
  }
  const bytes = layers.reduce((n, p) => n + Buffer.byteLength(p) + 1, 0);
  if (bytes > MAX_LOWERDIR_BYTES) {
    throw ctx.fail(
      `${ctx.image}: ${layers.length} layers make an overlay lowerdir= option of ${bytes} bytes, over the ${MAX_LOWERDIR_BYTES} minipod allows (the kernel takes one page of mount options); use a shorter MINIPOD_LIB_DIR or squash the image`,
      'image.too-large',
    );
  }
  return { id: rec.id, layers, config: rec.config };
}

export function storeRelative(dirs: StoreDirs, p: string): string {
  return path.relative(dirs.root, p);
}
