/**
 * metadata of the objects that come with a pod (ConfigMap, Secret, and the kinds added after
 * them): a name, an optional namespace, labels and annotations. Nothing of it reaches the host.
 */
import { childPath, type Issues, quote } from '../issues.js';
import { Fields, type ObjectShape } from '../reader.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, qualifiedNameProblem } from '../syntax.js';

export const OBJECT_METADATA_SHAPE: ObjectShape = { type: 'ObjectMeta', known: ['name', 'namespace', 'labels', 'annotations'] };

export interface ObjectMetadata {
  name?: string;
  namespace?: string;
}

/**
 * `metadata.name` (checked by `nameProblem`: a Pod's is a DNS-1123 label, other objects' a
 * subdomain) and `metadata.namespace` (a label), each left out when it is refused.
 */
export function decodeNameAndNamespace(f: Fields, issues: Issues, nameProblem: (name: string) => string | undefined): ObjectMetadata {
  const out: ObjectMetadata = {};
  const name = f.requiredString('name', 253);
  if (name !== undefined) {
    const p = nameProblem(name);
    if (p) issues.add(f.at('name'), `${quote(name)} ${p}`);
    else out.name = name;
  }
  const namespace = f.optionalString('namespace', 253);
  if (namespace !== undefined) {
    const p = dns1123LabelProblem(namespace);
    if (p) issues.add(f.at('namespace'), `${quote(namespace)} ${p}`);
    else out.namespace = namespace;
  }
  return out;
}

/** Reads `metadata` of a non-Pod object; its name is a DNS-1123 subdomain, as in Kubernetes. */
export function decodeObjectMetadata(root: Fields, issues: Issues): ObjectMetadata {
  const out: ObjectMetadata = {};
  const f = root.object('metadata', OBJECT_METADATA_SHAPE);
  if (!f) {
    if (!root.has('metadata')) issues.add('metadata', 'field is required (metadata.name names the object)');
    return out;
  }
  Object.assign(out, decodeNameAndNamespace(f, issues, dns1123SubdomainProblem));
  for (const key of ['labels', 'annotations'] as const) {
    const map = f.stringMap(key, 256) ?? {};
    for (const k of Object.keys(map)) {
      const kp = qualifiedNameProblem(k);
      if (kp) issues.add(childPath(f.at(key), k), `key ${kp}`);
    }
  }
  return out;
}
