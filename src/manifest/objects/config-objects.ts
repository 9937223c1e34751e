/**
 * ConfigMap and Secret documents -> ConfigMapObject / SecretObject, with Kubernetes' rules:
 * keys are file names (`[-._a-zA-Z0-9]+`, not `.` or `..`), one key in one place, at most
 * 1 MiB in total; Secret `data` and ConfigMap `binaryData` are standard base64; Secret
 * `stringData` is written over `data`; the well-known Secret types need their keys.
 */
import { childPath, type Issues, quote, typeName } from '../issues.js';
import { checkString, Fields, isObject, type JsonObject, type ObjectShape } from '../reader.js';
import { decodeObjectMetadata } from './metadata.js';
import type { ConfigMapObject, ObjectOrigin, SecretObject } from './types.js';

/** Kubernetes' limit for one ConfigMap or Secret (etcd's object size). */
export const MAX_OBJECT_DATA_BYTES = 1024 * 1024;
const MAX_KEYS = 1024;

export const CONFIG_MAP_SHAPE: ObjectShape = {
  type: 'ConfigMap',
  known: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
};
export const SECRET_SHAPE: ObjectShape = {
  type: 'Secret',
  known: ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'],
};

/** Secret types with required keys, as the API server validates them. */
const REQUIRED_SECRET_KEYS: Readonly<Record<string, readonly string[]>> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

/** A ConfigMap or Secret key: it becomes a file name in a volume. */
export function configKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if (key.length > 253) return 'must be at most 253 characters';
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) return "must consist of letters, digits, '-', '_' or '.'";
  if (key === '.' || key === '..') return "must not be '.' or '..'";
  if (key.startsWith('..')) return "must not start with '..'";
  return undefined;
}

/** Go's base64.StdEncoding as encoding/json uses it: padded, standard alphabet, newlines ignored. */
export function decodeBase64(text: string): Buffer | undefined {
  const s = text.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const buf = Buffer.from(s, 'base64');
  // Non-canonical trailing bits decode in Node but not in Go.
  return buf.toString('base64') === s ? buf : undefined;
}

type Encoding = 'text' | 'base64';

/** One data map; keys already seen (in another map of the object) are refused. */
function readDataMap(f: Fields, key: string, encoding: Encoding, into: Map<string, Buffer>, seen: Set<string>, overwrite = false): void {
  const raw = f.get(key);
  if (raw === undefined) return;
  const path = f.at(key);
  if (!isObject(raw)) {
    f.issues.add(path, `expected an object, got ${typeName(raw)}`);
    return;
  }
  const keys = Object.keys(raw);
  if (keys.length > MAX_KEYS) {
    f.issues.add(path, `too many entries (${keys.length}, at most ${MAX_KEYS})`);
    return;
  }
  for (const k of keys) {
    const p = childPath(path, k);
    const problem = configKeyProblem(k);
    if (problem) {
      f.issues.add(p, `key ${quote(k)} ${problem}`);
      continue;
    }
    if (seen.has(k) && !overwrite) {
      f.issues.add(p, `key ${quote(k)} is also in another data map of this object`);
      continue;
    }
    const v = raw[k] ?? '';
    const s = checkString(f.issues, p, v, MAX_OBJECT_DATA_BYTES * 2);
    if (s === undefined) continue;
    if (encoding === 'base64') {
      const bytes = decodeBase64(s);
      if (!bytes) f.issues.add(p, 'is not valid base64 (standard alphabet, padded with =)');
      else into.set(k, bytes);
    } else {
      into.set(k, Buffer.from(s, 'utf8'));
    }
    seen.add(k);
  }
}

function checkTotal(issues: Issues, data: Map<string, Buffer>): void {
  let total = 0;
  for (const [k, v] of data) total += k.length + v.length;
  if (total > MAX_OBJECT_DATA_BYTES) issues.add('data', `is too large (${total} bytes, at most ${MAX_OBJECT_DATA_BYTES})`);
}

export function decodeConfigMap(doc: JsonObject, issues: Issues, origin: ObjectOrigin): ConfigMapObject | undefined {
  const root = Fields.open(issues, '', doc, CONFIG_MAP_SHAPE)!;
  const meta = decodeObjectMetadata(root, issues);
  const data = new Map<string, Buffer>();
  const seen = new Set<string>();
  readDataMap(root, 'data', 'text', data, seen);
  readDataMap(root, 'binaryData', 'base64', data, seen);
  checkTotal(issues, data);
  const immutable = root.boolean('immutable') ?? false;
  if (meta.name === undefined) return undefined;
  return { kind: 'ConfigMap', name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}), data, immutable, origin };
}

export function decodeSecret(doc: JsonObject, issues: Issues, origin: ObjectOrigin): SecretObject | undefined {
  const root = Fields.open(issues, '', doc, SECRET_SHAPE)!;
  const meta = decodeObjectMetadata(root, issues);
  const data = new Map<string, Buffer>();
  const seen = new Set<string>();
  readDataMap(root, 'data', 'base64', data, seen);
  // The API server merges stringData into data, stringData winning.
  readDataMap(root, 'stringData', 'text', data, seen, true);
  checkTotal(issues, data);
  const immutable = root.boolean('immutable') ?? false;
  const type = root.optionalString('type', 253) ?? 'Opaque';
  if (type === 'kubernetes.io/service-account-token') {
    issues.add('type', `${quote(type)} is filled in by a cluster's token controller; minipod has no API server`);
  }
  for (const key of REQUIRED_SECRET_KEYS[type] ?? []) {
    if (!data.has(key)) issues.add(childPath('data', key), `field is required for a Secret of type ${type}`);
  }
  if (type === 'kubernetes.io/basic-auth' && !data.has('username') && !data.has('password')) {
    issues.add('data', 'needs a username or a password for a Secret of type kubernetes.io/basic-auth');
  }
  for (const key of ['.dockerconfigjson', '.dockercfg']) {
    const v = data.get(key);
    if (v === undefined || !type.endsWith(key === '.dockercfg' ? 'dockercfg' : 'dockerconfigjson')) continue;
    try {
      const parsed: unknown = JSON.parse(v.toString('utf8'));
      if (!isObject(parsed)) throw new Error('not an object');
    } catch {
      issues.add(childPath('data', key), 'is not a JSON object (a docker config file)');
    }
  }
  if (meta.name === undefined) return undefined;
  return { kind: 'Secret', name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}), type, data, immutable, origin };
}
