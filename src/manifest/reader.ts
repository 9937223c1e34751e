/**
 * Typed reads of untrusted JSON with field paths.
 *
 * Each read either returns a value of the right type or records an issue and returns undefined,
 * so decoding goes on and collects everything; nobody sees the half-decoded result because
 * the first issue is thrown before it leaves src/manifest/.
 *
 * Kubernetes' JSON rules: a `null` value is the same as an absent field.
 */
import { childPath, indexPath, Issues, quote, typeName } from './issues.js';
import { K8S_FIELDS, nearestName, type K8sType } from './k8s-fields.js';

/** Any one string in a manifest; far above anything real, small enough to stay harmless. */
export const MAX_STRING_LENGTH = 64 * 1024;

export type JsonObject = Record<string, unknown>;

export interface ObjectShape {
  /**
   * The Kubernetes type (K8S_FIELDS): any of its fields that is neither known nor clusterOnly is
   * "a Kubernetes field minipod does not support"; anything else is an unknown field (a typo).
   */
  type?: K8sType;
  /** Fields minipod reads. */
  known: readonly string[];
  /** Fields accepted with one warning each: why the field has no effect on one host. */
  clusterOnly?: Readonly<Record<string, string>>;
  /** Kubernetes fields minipod refuses, for shapes without a `type`. */
  unsupported?: readonly string[];
  /** Why a refused field cannot work on one host, added to its refusal. */
  unsupportedWhy?: Readonly<Record<string, string>>;
}

export const UNSUPPORTED_FIELD = 'is a Kubernetes field minipod does not support';

/** A shape's Kubernetes fields that minipod refuses. */
export function unsupportedFields(shape: ObjectShape): string[] {
  const all: readonly string[] = shape.type ? K8S_FIELDS[shape.type] : (shape.unsupported ?? []);
  return all.filter((k) => !shape.known.includes(k) && !(shape.clusterOnly && Object.hasOwn(shape.clusterOnly, k)));
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkString(issues: Issues, path: string, value: unknown, max = MAX_STRING_LENGTH): string | undefined {
  if (typeof value !== 'string') {
    issues.add(path, `expected a string, got ${typeName(value)}`);
    return undefined;
  }
  if (value.length > max) {
    issues.add(path, `is too long (${value.length} characters, at most ${max})`);
    return undefined;
  }
  // No kernel interface (paths, argv, environ) can carry a NUL; refusing it here keeps every
  // consumer from truncating silently.
  if (value.includes('\0')) {
    issues.add(path, 'must not contain a NUL character');
    return undefined;
  }
  return value;
}

export function checkBoolean(issues: Issues, path: string, value: unknown): boolean | undefined {
  if (typeof value !== 'boolean') {
    issues.add(path, `expected a boolean, got ${typeName(value)}`);
    return undefined;
  }
  return value;
}

export interface IntRange {
  min?: number;
  max?: number;
}

export function checkInteger(issues: Issues, path: string, value: unknown, range: IntRange = {}): number | undefined {
  if (typeof value !== 'number') {
    issues.add(path, `expected an integer, got ${typeName(value)}`);
    return undefined;
  }
  if (!Number.isInteger(value)) {
    issues.add(path, `expected an integer, got ${quote(value)}`);
    return undefined;
  }
  if (!Number.isSafeInteger(value)) {
    issues.add(path, `${quote(value)} is too large`);
    return undefined;
  }
  const { min, max } = range;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    if (min !== undefined && max !== undefined) issues.add(path, `must be between ${min} and ${max}, got ${value}`);
    else if (min !== undefined) issues.add(path, `must be at least ${min}, got ${value}`);
    else issues.add(path, `must be at most ${max}, got ${value}`);
    return undefined;
  }
  return value;
}

export function checkArray(issues: Issues, path: string, value: unknown, maxItems: number): unknown[] | undefined {
  if (!Array.isArray(value)) {
    issues.add(path, `expected an array, got ${typeName(value)}`);
    return undefined;
  }
  if (value.length > maxItems) {
    issues.add(path, `too many entries (${value.length}, at most ${maxItems})`);
    return undefined;
  }
  return value;
}

export function checkObject(issues: Issues, path: string, value: unknown): JsonObject | undefined {
  if (!isObject(value)) {
    issues.add(path, `expected an object, got ${typeName(value)}`);
    return undefined;
  }
  return value;
}

/**
 * Reports unknown and unsupported keys and warns about cluster-only ones; true when there was
 * nothing to refuse. A null value counts as absent (Kubernetes' JSON rule), so it is neither.
 */
export function checkKeys(issues: Issues, path: string, obj: JsonObject, shape: ObjectShape): boolean {
  let ok = true;
  const unsupported = unsupportedFields(shape);
  for (const key of Object.keys(obj)) {
    if (shape.known.includes(key)) continue;
    if (shape.clusterOnly && Object.hasOwn(shape.clusterOnly, key)) {
      if (obj[key] !== null) issues.warn(childPath(path, key), shape.clusterOnly[key]!);
      continue;
    }
    if (unsupported.includes(key)) {
      if (obj[key] === null) continue;
      const why = shape.unsupportedWhy?.[key];
      issues.add(childPath(path, key), why ? `${UNSUPPORTED_FIELD}: ${why}` : UNSUPPORTED_FIELD);
    } else {
      const hint = nearestName(key, [...shape.known, ...Object.keys(shape.clusterOnly ?? {}), ...unsupported]);
      issues.add(childPath(path, key), hint ? `unknown field (did you mean ${quote(hint)}?)` : 'unknown field');
    }
    ok = false;
  }
  return ok;
}

/** Field reads on one object, all relative to its path. */
export class Fields {
  constructor(
    readonly issues: Issues,
    readonly path: string,
    readonly obj: JsonObject,
  ) {}

  /** Checks the value is an object with only the shape's keys; undefined if not an object. */
  static open(issues: Issues, path: string, value: unknown, shape: ObjectShape): Fields | undefined {
    const obj = checkObject(issues, path, value);
    if (!obj) return undefined;
    checkKeys(issues, path, obj, shape);
    return new Fields(issues, path, obj);
  }

  at(key: string): string {
    return childPath(this.path, key);
  }

  /** The raw value; null counts as absent. */
  get(key: string): unknown {
    if (!Object.prototype.hasOwnProperty.call(this.obj, key)) return undefined;
    const v = this.obj[key];
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  required(key: string): unknown {
    const v = this.get(key);
    if (v === undefined) this.issues.add(this.at(key), 'field is required');
    return v;
  }

  string(key: string, max?: number): string | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : checkString(this.issues, this.at(key), v, max);
  }

  /** A string that must be present and not empty (Kubernetes treats "" as unset). */
  requiredString(key: string, max?: number): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === '') {
      this.issues.add(this.at(key), 'field is required');
      return undefined;
    }
    return checkString(this.issues, this.at(key), v, max);
  }

  /** An optional string where "" means unset, as for Kubernetes' omitempty strings. */
  optionalString(key: string, max?: number): string | undefined {
    const v = this.string(key, max);
    return v === '' ? undefined : v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : checkBoolean(this.issues, this.at(key), v);
  }

  integer(key: string, range?: IntRange): number | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : checkInteger(this.issues, this.at(key), v, range);
  }

  /**
   * One of `values`; "" means unset (Kubernetes defaults it). Values in `unsupported` are valid
   * Kubernetes that minipod refuses.
   */
  enumOf<T extends string>(key: string, values: readonly T[], unsupported: readonly string[] = []): T | undefined {
    const v = this.string(key, 256);
    if (v === undefined || v === '') return undefined;
    if ((values as readonly string[]).includes(v)) return v as T;
    if (unsupported.includes(v)) this.issues.add(this.at(key), `${quote(v)} is not supported by minipod`);
    else this.issues.add(this.at(key), `${quote(v)} is not one of ${values.filter((x) => x !== '').join(', ')}`);
    return undefined;
  }

  /** An array of strings; [] is returned as []. */
  stringArray(key: string, maxItems: number, maxLength?: number): string[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const arr = checkArray(this.issues, this.at(key), v, maxItems);
    if (!arr) return undefined;
    const out: string[] = [];
    let ok = true;
    arr.forEach((item, i) => {
      const s = checkString(this.issues, indexPath(this.at(key), i), item, maxLength);
      if (s === undefined) ok = false;
      else out.push(s);
    });
    return ok ? out : undefined;
  }

  /** Decodes each element of an array with its own path; undefined items are dropped. */
  list<T>(key: string, maxItems: number, decode: (item: unknown, path: string, index: number) => T | undefined): T[] {
    const v = this.get(key);
    if (v === undefined) return [];
    const arr = checkArray(this.issues, this.at(key), v, maxItems);
    if (!arr) return [];
    const out: T[] = [];
    arr.forEach((item, i) => {
      const path = indexPath(this.at(key), i);
      if (item === null) {
        this.issues.add(path, 'expected an object, got null');
        return;
      }
      const d = decode(item, path, i);
      if (d !== undefined) out.push(d);
    });
    return out;
  }

  /** A nested object with its own shape. */
  object(key: string, shape: ObjectShape): Fields | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : Fields.open(this.issues, this.at(key), v, shape);
  }

  /** A free-form map of string to string (labels, annotations). */
  stringMap(key: string, maxEntries: number): Record<string, string> | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const obj = checkObject(this.issues, this.at(key), v);
    if (!obj) return undefined;
    const keys = Object.keys(obj);
    if (keys.length > maxEntries) {
      this.issues.add(this.at(key), `too many entries (${keys.length}, at most ${maxEntries})`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const k of keys) {
      const s = checkString(this.issues, childPath(this.at(key), k), obj[k]);
      if (s !== undefined) setOwn(out, k, s);
    }
    return out;
  }
}

/** Sets a key as plain data, so that a key named `__proto__` cannot reach Object.prototype. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
