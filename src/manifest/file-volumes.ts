/**
 * Volumes of files made by the pod's runtime: `configMap`, `secret`, `downwardAPI` and
 * `projected` (several of those in one folder). Keys are resolved here against the ConfigMaps
 * and Secrets that came with the pod; downward API values are resolved when the pod starts.
 * A missing object or key is an error naming the field unless `optional: true`, as in
 * Kubernetes (kubelet then makes the volume without it).
 */
import type { DownwardSource, ProjectedFile, VolumeSource } from './types.js';
import { type Issues, quote } from './issues.js';
import { Fields, type ObjectShape } from './reader.js';
import type { ObjectLookup } from './objects/types.js';
import { decodeFieldRef, decodeResourceFieldRef, FIELD_REF_SHAPE, RESOURCE_FIELD_REF_SHAPE } from './downward.js';

export const CONFIG_MAP_VOLUME_SHAPE: ObjectShape = { type: 'ConfigMapVolumeSource', known: ['name', 'items', 'defaultMode', 'optional'] };
export const SECRET_VOLUME_SHAPE: ObjectShape = { type: 'SecretVolumeSource', known: ['secretName', 'items', 'defaultMode', 'optional'] };
export const KEY_TO_PATH_SHAPE: ObjectShape = { type: 'KeyToPath', known: ['key', 'path', 'mode'] };
export const DOWNWARD_API_VOLUME_SHAPE: ObjectShape = { type: 'DownwardAPIVolumeSource', known: ['items', 'defaultMode'] };
export const DOWNWARD_API_FILE_SHAPE: ObjectShape = {
  type: 'DownwardAPIVolumeFile',
  known: ['path', 'fieldRef', 'resourceFieldRef', 'mode'],
};
export const PROJECTED_SHAPE: ObjectShape = { type: 'ProjectedVolumeSource', known: ['sources', 'defaultMode'] };
export const PROJECTION_SHAPE: ObjectShape = {
  type: 'VolumeProjection',
  known: ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken'],
};
export const CONFIG_MAP_PROJECTION_SHAPE: ObjectShape = { type: 'ConfigMapProjection', known: ['name', 'items', 'optional'] };
export const SECRET_PROJECTION_SHAPE: ObjectShape = { type: 'SecretProjection', known: ['name', 'items', 'optional'] };
export const DOWNWARD_API_PROJECTION_SHAPE: ObjectShape = { type: 'DownwardAPIProjection', known: ['items'] };

/** Kubernetes' default file mode for these volumes (0644). */
export const DEFAULT_FILE_MODE = 0o644;
const MAX_ITEMS = 1024;

export interface FileVolumeContext {
  issues: Issues;
  objects: ObjectLookup;
  namespace?: string;
}

function mode(f: Fields, key: string): number | undefined {
  return f.integer(key, { min: 0, max: 0o777 });
}

/** A file's path in its volume: relative, no `..` component, not starting with `..` (Kubernetes). */
export function itemPathProblem(p: string): string | undefined {
  if (p === '') return 'must not be empty';
  if (p.startsWith('/')) return 'must be a relative path';
  if (p.split('/').includes('..')) return "must not contain '..'";
  if (p.startsWith('..')) return "must not start with '..'";
  return undefined;
}

function itemPath(f: Fields, key: string): string | undefined {
  const p = f.requiredString(key, 4096);
  if (p === undefined) return undefined;
  const problem = itemPathProblem(p);
  if (problem) {
    f.issues.add(f.at(key), `${quote(p)} ${problem}`);
    return undefined;
  }
  // `a//b/./c` and `a/b/c` are one file.
  return p
    .split('/')
    .filter((c) => c !== '' && c !== '.')
    .join('/');
}

/** The files of a configMap or secret source: every key, or the `items` listed. */
function objectFiles(
  ctx: FileVolumeContext,
  f: Fields,
  kind: 'ConfigMap' | 'Secret',
  nameKey: string,
  defaultMode: number,
): ProjectedFile[] {
  const name = f.requiredString(nameKey, 253);
  const optional = f.boolean('optional') ?? false;
  const obj =
    name === undefined
      ? undefined
      : kind === 'ConfigMap'
        ? ctx.objects.configMap(name, ctx.namespace)
        : ctx.objects.secret(name, ctx.namespace);
  const secret = kind === 'Secret';
  const file = (key: string, path: string, m: number): ProjectedFile => ({
    path,
    mode: m,
    data: obj!.data.get(key)!.toString('base64'),
    ...(secret ? { secret: true } : {}),
  });
  if (name !== undefined && !obj && !optional) {
    ctx.issues.add(f.at(nameKey), `no ${kind} ${quote(name)} among the documents (set optional: true to run without it)`);
  }
  const items = f.list('items', MAX_ITEMS, (item, p) => {
    const i = Fields.open(ctx.issues, p, item, KEY_TO_PATH_SHAPE);
    if (!i) return undefined;
    const key = i.requiredString('key', 253);
    const path = itemPath(i, 'path');
    const m = mode(i, 'mode') ?? defaultMode;
    if (key === undefined || path === undefined || !obj) return undefined;
    if (!obj.data.has(key)) {
      if (!optional) ctx.issues.add(i.at('key'), `${kind} ${quote(name!)} has no key ${quote(key)} (set optional: true to run without it)`);
      return undefined;
    }
    return file(key, path, m);
  });
  if (!obj) return [];
  if (f.has('items')) return items;
  return [...obj.data.keys()].sort().map((key) => file(key, key, defaultMode));
}

function downwardFiles(f: Fields, defaultMode: number): ProjectedFile[] {
  return f.list('items', MAX_ITEMS, (item, p) => {
    const i = Fields.open(f.issues, p, item, DOWNWARD_API_FILE_SHAPE);
    if (!i) return undefined;
    const path = itemPath(i, 'path');
    const m = mode(i, 'mode') ?? defaultMode;
    const fieldRef = i.object('fieldRef', FIELD_REF_SHAPE);
    const resourceRef = i.object('resourceFieldRef', RESOURCE_FIELD_REF_SHAPE);
    if ((fieldRef ? 1 : 0) + (resourceRef ? 1 : 0) !== 1) {
      f.issues.add(p, 'must specify exactly one of fieldRef, resourceFieldRef');
      return undefined;
    }
    let from: DownwardSource | undefined;
    if (fieldRef) from = decodeFieldRef(fieldRef, 'volume');
    if (resourceRef) from = decodeResourceFieldRef(resourceRef, undefined);
    if (path === undefined || from === undefined) return undefined;
    return { path, mode: m, from };
  });
}

/** Two files on one path (or a file where another has its folder): kubelet refuses that too. */
function checkPaths(issues: Issues, at: string, files: ProjectedFile[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) issues.add(at, `two files have the path ${quote(file.path)}`);
    seen.add(file.path);
  }
  for (const file of files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (seen.has(dir)) issues.add(at, `${quote(dir)} is both a file and the folder of ${quote(file.path)}`);
    }
  }
}

/** Decodes the source named `key` of a volume (configMap, secret, downwardAPI or projected). */
export function decodeFileVolume(
  ctx: FileVolumeContext,
  vol: Fields,
  key: 'configMap' | 'secret' | 'downwardAPI' | 'projected',
): VolumeSource | undefined {
  let files: ProjectedFile[] = [];
  let at = vol.at(key);
  if (key === 'configMap' || key === 'secret') {
    const f = vol.object(key, key === 'configMap' ? CONFIG_MAP_VOLUME_SHAPE : SECRET_VOLUME_SHAPE);
    if (!f) return undefined;
    const defaultMode = mode(f, 'defaultMode') ?? DEFAULT_FILE_MODE;
    files = objectFiles(ctx, f, key === 'configMap' ? 'ConfigMap' : 'Secret', key === 'configMap' ? 'name' : 'secretName', defaultMode);
    at = f.path;
  } else if (key === 'downwardAPI') {
    const f = vol.object(key, DOWNWARD_API_VOLUME_SHAPE);
    if (!f) return undefined;
    files = downwardFiles(f, mode(f, 'defaultMode') ?? DEFAULT_FILE_MODE);
  } else {
    const f = vol.object(key, PROJECTED_SHAPE);
    if (!f) return undefined;
    const defaultMode = mode(f, 'defaultMode') ?? DEFAULT_FILE_MODE;
    files = f.list('sources', 64, (item, p) => projection(ctx, item, p, defaultMode)).flat();
  }
  checkPaths(ctx.issues, at, files);
  return { kind: 'files', type: key, files, tmpfs: key === 'secret' || key === 'projected' };
}

function projection(ctx: FileVolumeContext, item: unknown, path: string, defaultMode: number): ProjectedFile[] | undefined {
  const f = Fields.open(ctx.issues, path, item, PROJECTION_SHAPE);
  if (!f) return undefined;
  const present = PROJECTION_SHAPE.known.filter((k) => f.has(k));
  if (present.length !== 1) {
    if (present.length > 1 || !['clusterTrustBundle', 'podCertificate'].some((k) => f.has(k))) {
      ctx.issues.add(path, `must specify exactly one of ${PROJECTION_SHAPE.known.join(', ')}`);
    }
    return undefined;
  }
  if (f.has('serviceAccountToken')) {
    ctx.issues.add(
      f.at('serviceAccountToken'),
      'needs an API server to issue the token, and minipod has none (remove this source, or give the token as a Secret)',
    );
    return undefined;
  }
  const cm = f.object('configMap', CONFIG_MAP_PROJECTION_SHAPE);
  if (cm) return objectFiles(ctx, cm, 'ConfigMap', 'name', defaultMode);
  const secret = f.object('secret', SECRET_PROJECTION_SHAPE);
  if (secret) return objectFiles(ctx, secret, 'Secret', 'name', defaultMode);
  const downward = f.object('downwardAPI', DOWNWARD_API_PROJECTION_SHAPE);
  if (downward) return downwardFiles(downward, defaultMode);
  return undefined;
}
