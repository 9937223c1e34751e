/**
 * A container's environment: `env` (values, and `valueFrom` ConfigMap/Secret keys, the pod's
 * fields and resources) and `envFrom` (every key of a ConfigMap or Secret).
 */
import type { EnvVar } from './types.js';
import { Issues, quote } from './issues.js';
import { Fields, type ObjectShape } from './reader.js';
import { envNameProblem } from './syntax.js';

export const ENV_SHAPE: ObjectShape = { type: 'EnvVar', known: ['name', 'value'] };

export function decodeEnv(issues: Issues, value: unknown, path: string): EnvVar | undefined {
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
  return { name, value: v ?? '' };
}
