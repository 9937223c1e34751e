/**
 * A container's environment: `env` (values, and `valueFrom` ConfigMap/Secret keys, the pod's
 * fields and resources) and `envFrom` (every key of a ConfigMap or Secret). ConfigMap and
 * Secret values are resolved here, from the objects that came with the pod (podman `kube play`
 * does the same at play time); downward API values when the pod starts.
 */
import type { EnvVar, FileKeyRef } from './types.js';
import { Issues, quote } from './issues.js';
import { Fields, type ObjectShape } from './reader.js';
import { envNameProblem } from './syntax.js';
import type { ConfigMapObject, ObjectLookup, SecretObject } from './objects/types.js';
import { decodeFieldRef, decodeResourceFieldRef, FIELD_REF_SHAPE, RESOURCE_FIELD_REF_SHAPE } from './downward.js';

export const ENV_SHAPE: ObjectShape = { type: 'EnvVar', known: ['name', 'value', 'valueFrom'] };
export const ENV_VAR_SOURCE_SHAPE: ObjectShape = {
  type: 'EnvVarSource',
  known: ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'],
};
export const FILE_KEY_SHAPE: ObjectShape = { type: 'FileKeySelector', known: ['volumeName', 'path', 'key', 'optional'] };
export const CONFIG_MAP_KEY_SHAPE: ObjectShape = { type: 'ConfigMapKeySelector', known: ['name', 'key', 'optional'] };
export const SECRET_KEY_SHAPE: ObjectShape = { type: 'SecretKeySelector', known: ['name', 'key', 'optional'] };
export const ENV_FROM_SHAPE: ObjectShape = { type: 'EnvFromSource', known: ['prefix', 'configMapRef', 'secretRef'] };
export const CONFIG_MAP_ENV_SHAPE: ObjectShape = { type: 'ConfigMapEnvSource', known: ['name', 'optional'] };
export const SECRET_ENV_SHAPE: ObjectShape = { type: 'SecretEnvSource', known: ['name', 'optional'] };

export interface EnvContext {
  issues: Issues;
  objects: ObjectLookup;
  namespace?: string;
  /** The container's name (resourceFieldRef's default). */
  container?: string;
  /** The pod's emptyDir volumes by name (fileKeyRef must name one) and every volume name. */
  volumes?: { all: ReadonlySet<string>; emptyDirs: ReadonlySet<string> };
}

type Kind = 'ConfigMap' | 'Secret';

function lookup(ctx: EnvContext, kind: Kind, name: string): ConfigMapObject | SecretObject | undefined {
  return kind === 'ConfigMap' ? ctx.objects.configMap(name, ctx.namespace) : ctx.objects.secret(name, ctx.namespace);
}

/** configMapKeyRef / secretKeyRef: the key's value; undefined (and no issue) when optional and missing. */
function keyRef(ctx: EnvContext, f: Fields, kind: Kind): { value: string } | undefined {
  const name = f.requiredString('name', 253);
  const key = f.requiredString('key', 253);
  const optional = f.boolean('optional') ?? false;
  if (name === undefined || key === undefined) return undefined;
  const obj = lookup(ctx, kind, name);
  if (!obj) {
    if (!optional) ctx.issues.add(f.at('name'), `no ${kind} ${quote(name)} among the documents (set optional: true to run without it)`);
    return undefined;
  }
  const bytes = obj.data.get(key);
  if (bytes === undefined) {
    if (!optional) ctx.issues.add(f.at('key'), `${kind} ${quote(name)} has no key ${quote(key)} (set optional: true to run without it)`);
    return undefined;
  }
  return { value: bytes.toString('utf8') };
}

export function decodeEnv(ctx: EnvContext, value: unknown, path: string): EnvVar | undefined {
  const { issues } = ctx;
  const f = Fields.open(issues, path, value, ENV_SHAPE);
  if (!f) return undefined;
  const name = f.string('name', 4096);
  if (name === undefined) {
    if (!f.has('name')) issues.add(f.at('name'), 'field is required');
    return undefined;
  }
  const p = envNameProblem(name);
  if (p) {
    issues.add(f.at('name'), `${quote(name)} ${p}`);
    return undefined;
  }
  const v = f.string('value');
  if (f.has('value') && v === undefined) return undefined;
  const from = f.object('valueFrom', ENV_VAR_SOURCE_SHAPE);
  if (!from) return { name, value: v ?? '' };
  if (v !== undefined && v !== '') {
    issues.add(f.at('valueFrom'), 'may not be set together with value');
    return undefined;
  }
  const kinds = ENV_VAR_SOURCE_SHAPE.known.filter((k) => from.has(k));
  if (kinds.length !== 1) {
    issues.add(
      from.path,
      `must specify exactly one of ${ENV_VAR_SOURCE_SHAPE.known.join(', ')}${kinds.length > 1 ? ` (got ${kinds.join(' and ')})` : ''}`,
    );
    return undefined;
  }
  const fileRef = from.object('fileKeyRef', FILE_KEY_SHAPE);
  if (fileRef) {
    const ref = decodeFileKeyRef(ctx, fileRef);
    return ref ? { name, value: '', literal: true, fromFile: ref } : undefined;
  }
  const fieldRef = from.object('fieldRef', FIELD_REF_SHAPE);
  if (fieldRef) {
    const source = decodeFieldRef(fieldRef, 'env');
    return source ? { name, value: '', from: source, literal: true } : undefined;
  }
  const resourceRef = from.object('resourceFieldRef', RESOURCE_FIELD_REF_SHAPE);
  if (resourceRef) {
    const source = decodeResourceFieldRef(resourceRef, ctx.container);
    return source ? { name, value: '', from: source, literal: true } : undefined;
  }
  const cm = from.object('configMapKeyRef', CONFIG_MAP_KEY_SHAPE);
  if (cm) {
    const r = keyRef(ctx, cm, 'ConfigMap');
    return r ? { name, value: r.value, literal: true } : undefined;
  }
  const secret = from.object('secretKeyRef', SECRET_KEY_SHAPE);
  if (secret) {
    const r = keyRef(ctx, secret, 'Secret');
    return r ? { name, value: r.value, literal: true, secret: true } : undefined;
  }
  return undefined;
}

/**
 * envFrom: every key of the object, in key order, with `prefix`. As kubelet, a key that is not
 * a valid variable name is skipped (with a warning here, an event there).
 */
export function decodeEnvFrom(ctx: EnvContext, value: unknown, path: string): EnvVar[] | undefined {
  const f = Fields.open(ctx.issues, path, value, ENV_FROM_SHAPE);
  if (!f) return undefined;
  const prefix = f.string('prefix', 253) ?? '';
  const sources = (['configMapRef', 'secretRef'] as const).filter((k) => f.has(k));
  if (sources.length !== 1) {
    ctx.issues.add(path, `must specify exactly one of configMapRef, secretRef${sources.length > 1 ? ' (got both)' : ''}`);
    return undefined;
  }
  const kind: Kind = sources[0] === 'configMapRef' ? 'ConfigMap' : 'Secret';
  const ref = f.object(sources[0]!, kind === 'ConfigMap' ? CONFIG_MAP_ENV_SHAPE : SECRET_ENV_SHAPE);
  if (!ref) return undefined;
  const name = ref.requiredString('name', 253);
  const optional = ref.boolean('optional') ?? false;
  if (name === undefined) return undefined;
  const obj = lookup(ctx, kind, name);
  if (!obj) {
    if (!optional) ctx.issues.add(ref.at('name'), `no ${kind} ${quote(name)} among the documents (set optional: true to run without it)`);
    return [];
  }
  const out: EnvVar[] = [];
  for (const key of [...obj.data.keys()].sort()) {
    const varName = `${prefix}${key}`;
    const problem = envNameProblem(varName);
    if (problem) {
      ctx.issues.warn(ref.at('name'), `${kind} ${quote(name)}: key ${quote(key)} is skipped: ${quote(varName)} ${problem}`);
      continue;
    }
    out.push({ name: varName, value: obj.data.get(key)!.toString('utf8'), literal: true, ...(kind === 'Secret' ? { secret: true } : {}) });
  }
  return out;
}

/**
 * fileKeyRef (Kubernetes 1.34 EnvFiles), with the API server's rules: `volumeName` an emptyDir
 * of the pod, `path` relative without `..`, `key` a variable name (printable ASCII, no `=`, at
 * most 128 characters while the feature is alpha). The file is read when the container starts
 * (src/volumes/env-file.ts).
 */
function decodeFileKeyRef(ctx: EnvContext, f: Fields): FileKeyRef | undefined {
  const volumeName = f.requiredString('volumeName', 253);
  const filePath = f.requiredString('path', 4096);
  const key = f.requiredString('key', 128);
  const optional = f.boolean('optional') ?? false;
  let ok = volumeName !== undefined && filePath !== undefined && key !== undefined;
  if (volumeName !== undefined && ctx.volumes) {
    if (!ctx.volumes.all.has(volumeName)) {
      ctx.issues.add(f.at('volumeName'), `${quote(volumeName)} is not a volume of the pod`);
      ok = false;
    } else if (!ctx.volumes.emptyDirs.has(volumeName)) {
      ctx.issues.add(f.at('volumeName'), `${quote(volumeName)} must be an emptyDir volume`);
      ok = false;
    }
  }
  if (filePath !== undefined && (filePath === '' || filePath.startsWith('/') || filePath.split('/').includes('..'))) {
    ctx.issues.add(f.at('path'), `${quote(filePath)} must be a relative path without ".."`);
    ok = false;
  }
  const problem = key === undefined ? undefined : envNameProblem(key);
  if (problem) {
    ctx.issues.add(f.at('key'), `${quote(key!)} ${problem}`);
    ok = false;
  }
  return ok ? { volumeName: volumeName!, path: filePath!, key: key!, optional } : undefined;
}
