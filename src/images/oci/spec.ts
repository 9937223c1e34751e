/**
 * OCI image-spec and Docker v2 schema 2 documents, parsed defensively: everything here comes
 * from an image or a registry, so shapes are checked field by field, sizes are bounded and an
 * error names what was wrong in one line.
 */
import { UserError } from '../../errors.js';
import type { ImageConfig } from '../types.js';
import { digestHex } from './digest.js';

export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondist: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What a registry may answer to a manifest GET, best first. */
export const MANIFEST_ACCEPT = [MT.ociIndex, MT.dockerList, MT.ociManifest, MT.dockerManifest].join(', ');

/** Bounds on JSON documents: real manifests are a few KiB, configs rarely over 100 KiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
/** Docker's limit is 127 layers; overlayfs stacks at most 500 lower dirs. */
export const MAX_LAYERS = 128;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export type LayerCompression = 'gzip' | 'none' | 'zstd';

export interface Manifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Index {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

export interface ParsedConfig {
  config: ImageConfig;
  diffIds: string[];
  os?: string;
  architecture?: string;
  created?: string;
}

function bad(what: string, why: string): UserError {
  return new UserError(`${what}: ${why}`, { code: 'image.invalid' });
}

function parseJson(what: string, bytes: Buffer, max: number): unknown {
  if (bytes.length > max) throw new UserError(`${what}: larger than ${max} bytes`, { code: 'image.too-large' });
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw bad(what, `not valid JSON (${(err as Error).message})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(what, 'not a string');
  return v;
}

function optStringArray(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad(what, 'not a list of strings');
  return v as string[];
}

export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw bad(what, 'not an object');
  const mediaType = optString(v.mediaType, `${what}.mediaType`) ?? '';
  digestHex(v.digest, `${what}.digest`);
  const size = v.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`${what}.size`, 'not a non-negative integer');
  const d: Descriptor = { mediaType, digest: v.digest as string, size };
  if (isObject(v.platform)) {
    const p = v.platform;
    d.platform = {
      os: optString(p.os, `${what}.platform.os`) ?? '',
      architecture: optString(p.architecture, `${what}.platform.architecture`) ?? '',
      variant: optString(p.variant, `${what}.platform.variant`),
    };
  }
  if (isObject(v.annotations)) {
    d.annotations = {};
    for (const [k, val] of Object.entries(v.annotations)) if (typeof val === 'string') d.annotations[k] = val;
  }
  return d;
}

/** A manifest or an index, told apart by mediaType (or by shape when it is absent, as OCI allows). */
export function parseManifestOrIndex(bytes: Buffer, what: string, contentType?: string): Manifest | Index {
  const doc = parseJson(what, bytes, MAX_MANIFEST_BYTES);
  if (!isObject(doc)) throw bad(what, 'not a JSON object');
  const mediaType = optString(doc.mediaType, `${what}.mediaType`) ?? contentType?.split(';')[0]?.trim() ?? '';
  if (doc.schemaVersion === 1 || mediaType === MT.dockerSchema1 || mediaType === MT.dockerSchema1Signed) {
    throw new UserError(`${what}: Docker schema 1 manifests are deprecated and not supported; push the image again with a current tool`, {
      code: 'image.unsupported',
    });
  }
  if (doc.schemaVersion !== 2) throw bad(what, `unsupported schemaVersion ${JSON.stringify(doc.schemaVersion)}`);
  const isIndex = mediaType === MT.ociIndex || mediaType === MT.dockerList || (mediaType === '' && Array.isArray(doc.manifests));
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw bad(`${what}.manifests`, 'missing or not a list');
    if (doc.manifests.length > 1000) throw bad(`${what}.manifests`, 'more than 1000 entries');
    return { kind: 'index', mediaType, manifests: doc.manifests.map((m, i) => parseDescriptor(m, `${what}.manifests[${i}]`)) };
  }
  if (mediaType !== '' && mediaType !== MT.ociManifest && mediaType !== MT.dockerManifest) {
    throw new UserError(`${what}: unsupported manifest media type ${JSON.stringify(mediaType)}`, { code: 'image.unsupported' });
  }
  const config = parseDescriptor(doc.config, `${what}.config`);
  if (!Array.isArray(doc.layers)) throw bad(`${what}.layers`, 'missing or not a list');
  if (doc.layers.length > MAX_LAYERS) {
    throw new UserError(`${what}: ${doc.layers.length} layers; at most ${MAX_LAYERS} are supported`, { code: 'image.too-large' });
  }
  const layers = doc.layers.map((l, i) => parseDescriptor(l, `${what}.layers[${i}]`));
  return { kind: 'manifest', mediaType, config, layers };
}

/** How a layer blob is compressed, from its media type; unknown types are refused. */
export function layerCompression(mediaType: string, what: string): LayerCompression {
  switch (mediaType) {
    case MT.ociLayer:
    case MT.ociLayerNondist:
      return 'none';
    case MT.ociLayerGzip:
    case MT.ociLayerNondistGzip:
    case MT.dockerLayer:
    case MT.dockerForeignLayer:
      return 'gzip';
    case MT.ociLayerZstd:
      return 'zstd';
    default:
      throw new UserError(`${what}: unsupported layer media type ${JSON.stringify(mediaType)}`, { code: 'image.unsupported' });
  }
}

/** The image config: the fields minipod applies, and rootfs.diff_ids to verify the layers. */
export function parseConfig(bytes: Buffer, what: string): ParsedConfig {
  const doc = parseJson(what, bytes, MAX_CONFIG_BYTES);
  if (!isObject(doc)) throw bad(what, 'not a JSON object');
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers') throw bad(`${what}.rootfs`, 'missing, or its type is not "layers"');
  const diffIds = optStringArray(rootfs.diff_ids, `${what}.rootfs.diff_ids`) ?? [];
  diffIds.forEach((d, i) => digestHex(d, `${what}.rootfs.diff_ids[${i}]`));
  const c = isObject(doc.config) ? doc.config : {};
  const config: ImageConfig = {};
  const entrypoint = optStringArray(c.Entrypoint, `${what}.config.Entrypoint`);
  const cmd = optStringArray(c.Cmd, `${what}.config.Cmd`);
  const env = optStringArray(c.Env, `${what}.config.Env`);
  const workingDir = optString(c.WorkingDir, `${what}.config.WorkingDir`);
  const user = optString(c.User, `${what}.config.User`);
  const stopSignal = optString(c.StopSignal, `${what}.config.StopSignal`);
  if (entrypoint) config.entrypoint = entrypoint;
  if (cmd) config.cmd = cmd;
  if (env) config.env = env.filter((e) => e.indexOf('=') > 0);
  if (workingDir) config.workingDir = workingDir;
  if (user) config.user = user;
  if (stopSignal) config.stopSignal = stopSignal;
  return {
    config,
    diffIds,
    os: optString(doc.os, `${what}.os`),
    architecture: optString(doc.architecture, `${what}.architecture`),
    created: optString(doc.created, `${what}.created`),
  };
}
