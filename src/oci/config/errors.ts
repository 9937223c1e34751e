/** The translator's one kind of error: a config.json field, by its path, and what is wrong with it. */
import { UserError } from '../../errors.js';

export function configError(field: string, message: string): UserError {
  return new UserError(`config.json: ${field}: ${message}`, { code: 'oci.config' });
}

/** A field of the runtime spec that minipod-oci cannot honour: refused by name, never ignored. */
export function unsupported(field: string, why = 'not supported by minipod-oci'): UserError {
  return configError(field, why);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkUint(field: string, v: unknown, max = 2 ** 32 - 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    throw configError(field, `${JSON.stringify(v)} is not an unsigned integer`);
  return v;
}

export function checkInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw configError(field, `${JSON.stringify(v)} is not an integer`);
  return v;
}

export function checkString(field: string, v: unknown): string {
  if (typeof v !== 'string') throw configError(field, `${JSON.stringify(v)} is not a string`);
  return v;
}

export function checkStrings(field: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw configError(field, 'is not a list of strings');
  return v as string[];
}
