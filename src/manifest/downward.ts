/**
 * The downward API's two selectors: `fieldRef` (the pod's own fields) and `resourceFieldRef`
 * (a container's limits and requests), as env values and as downwardAPI volume files. Values
 * are resolved when the pod starts (src/plan/downward.ts): the uid and IPs do not exist before.
 */
import type { DownwardSource, ResourceFieldRef } from './types.js';
import { quote } from './issues.js';
import { Fields, type ObjectShape } from './reader.js';
import { parseBytes, parseCpuMilli, QuantityError } from './quantity.js';
import { qualifiedNameProblem } from './syntax.js';

export const FIELD_REF_SHAPE: ObjectShape = { type: 'ObjectFieldSelector', known: ['apiVersion', 'fieldPath'] };
export const RESOURCE_FIELD_REF_SHAPE: ObjectShape = { type: 'ResourceFieldSelector', known: ['containerName', 'resource', 'divisor'] };

/** fieldPaths an env var may select (Kubernetes' validation). */
const ENV_FIELDS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.podIP',
  'status.podIPs',
  'status.hostIP',
  'status.hostIPs',
];
/** fieldPaths a downwardAPI volume file may select. */
const VOLUME_FIELDS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.labels', 'metadata.annotations'];

const RESOURCES = [
  'limits.cpu',
  'requests.cpu',
  'limits.memory',
  'requests.memory',
  'limits.ephemeral-storage',
  'requests.ephemeral-storage',
] as const;

/** `metadata.labels['app']` -> the key, or undefined. */
export function subscriptKey(fieldPath: string): { map: 'labels' | 'annotations'; key: string } | undefined {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  return m ? { map: m[1] as 'labels' | 'annotations', key: m[2]! } : undefined;
}

export function decodeFieldRef(f: Fields, use: 'env' | 'volume'): DownwardSource | undefined {
  const apiVersion = f.optionalString('apiVersion', 64);
  if (apiVersion !== undefined && apiVersion !== 'v1')
    f.issues.add(f.at('apiVersion'), `${quote(apiVersion)} is not supported: the pod's fields are v1`);
  const fieldPath = f.requiredString('fieldPath', 1024);
  if (fieldPath === undefined) return undefined;
  const sub = subscriptKey(fieldPath);
  if (sub) {
    const p = qualifiedNameProblem(sub.key);
    if (p) {
      f.issues.add(f.at('fieldPath'), `${quote(fieldPath)}: the key ${p}`);
      return undefined;
    }
    return { fieldPath };
  }
  const allowed = use === 'env' ? ENV_FIELDS : VOLUME_FIELDS;
  if (!allowed.includes(fieldPath)) {
    const extra = "metadata.labels['KEY'], metadata.annotations['KEY']";
    f.issues.add(
      f.at('fieldPath'),
      `${quote(fieldPath)} is not a field the downward API gives ${use === 'env' ? 'an env var' : 'a volume'} (one of ${[...allowed, extra].join(', ')})`,
    );
    return undefined;
  }
  return { fieldPath };
}

/** Divisors Kubernetes allows: 1m or 1 for cpu; 1 and the powers of 1000 and 1024 for bytes. */
function parseDivisor(f: Fields, resource: string): number | undefined {
  const raw = f.get('divisor');
  if (raw === undefined) return resource.endsWith('cpu') ? 1000 : 1;
  const path = f.at('divisor');
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    f.issues.add(path, 'expected a quantity (string or number)');
    return undefined;
  }
  const text = String(raw);
  try {
    if (resource.endsWith('cpu')) {
      if (!['1m', '1'].includes(text)) throw new QuantityError(text, 'is not a cpu divisor (1m or 1)');
      return parseCpuMilli(text);
    }
    if (!/^1([kMGTPE]i?)?$/.test(text)) throw new QuantityError(text, 'is not a divisor of bytes (1, 1k, 1Ki, 1M, 1Mi, ... 1E, 1Ei)');
    return parseBytes(text);
  } catch (err) {
    if (!(err instanceof QuantityError)) throw err;
    f.issues.add(path, err.message);
    return undefined;
  }
}

/** `containerName` defaults to the env var's own container; a volume must name one. */
export function decodeResourceFieldRef(f: Fields, container: string | undefined): DownwardSource | undefined {
  const containerName = f.optionalString('containerName', 253) ?? container;
  if (containerName === undefined) f.issues.add(f.at('containerName'), 'field is required in a volume');
  const resource = f.requiredString('resource', 64);
  if (resource !== undefined && !(RESOURCES as readonly string[]).includes(resource)) {
    f.issues.add(f.at('resource'), `${quote(resource)} is not one of ${RESOURCES.join(', ')}`);
    return undefined;
  }
  if (resource === undefined) return undefined;
  const divisor = parseDivisor(f, resource);
  if (containerName === undefined || divisor === undefined) return undefined;
  const ref: ResourceFieldRef = { containerName, resource: resource as ResourceFieldRef['resource'], divisor };
  return { resourceFieldRef: ref };
}
