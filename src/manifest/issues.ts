/**
 * Problems found in a manifest, each tied to a field path, and the error that carries them.
 *
 * Decoding and the checks collect every problem they see (`run --dry-run` shows them all);
 * `run` gives the first one, on one line, as the message of a ManifestError.
 */
import { UserError } from '../errors.js';

export interface Issue {
  /** Field path as Kubernetes writes it: `spec.containers[1].resources.limits.memory`. */
  path: string;
  message: string;
}

export class ManifestError extends UserError {
  override name = 'ManifestError';
  /** Every problem found, in order; the message is the first. */
  readonly issues: Issue[];
  constructor(issues: Issue[], options: { cause?: unknown } = {}) {
    const first = issues[0];
    super(first ? formatIssue(first) : 'invalid manifest', { code: 'manifest.invalid', cause: options.cause });
    this.issues = issues;
  }
  /** The field path of the first problem ('' for a problem with the file as a whole). */
  get field(): string {
    return this.issues[0]?.path ?? '';
  }
}

export function formatIssue(issue: Issue): string {
  return oneLine(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
}

/** Messages may quote user text; a newline in it must not break the one-line promise. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** Collects issues while decoding and checking. */
export class Issues {
  readonly list: Issue[] = [];
  /** Fields accepted that have no effect on one host: the user is told, once each. */
  readonly warnings: Issue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }
  get ok(): boolean {
    return this.list.length === 0;
  }
  /** Throws the first issue, if any. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new ManifestError(this.list);
  }
}

const MAX_QUOTED = 80;

/** A user value for a message: JSON-quoted (so control characters show) and shortened. */
export function quote(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    s = String(value);
  }
  if (s === undefined) s = String(value);
  return s.length > MAX_QUOTED ? `${s.slice(0, MAX_QUOTED - 4)}..."` : s;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `parent.key`, or `parent["minipod.io/network"]` for keys that are not plain words. */
export function childPath(parent: string, key: string): string {
  if (PLAIN_KEY.test(key) && key.length <= 128) return parent ? `${parent}.${key}` : key;
  return `${parent}[${quote(key)}]`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** What a JSON value is, in words, for `expected a string, got number`. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value;
}
