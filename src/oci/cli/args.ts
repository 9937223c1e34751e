/**
 * runc's argument syntax (urfave/cli): global flags before the subcommand, the subcommand's
 * flags before its operands; `--flag value`, `--flag=value`, `-f value`; a boolean flag takes
 * no value (`--detach`, or `--detach=false`). `--` ends the flags. Pure, so the CLI's parsing
 * is unit-tested without root.
 */
import { UserError } from '../../errors.js';

export interface FlagSpec {
  /** Long name without dashes, e.g. `pid-file`. */
  name: string;
  /** One-letter alias, e.g. `b` for `--bundle`. */
  alias?: string;
  kind: 'bool' | 'string' | 'strings';
}

export interface ParsedArgs {
  flags: Map<string, string | boolean | string[]>;
  operands: string[];
}

function findFlag(specs: readonly FlagSpec[], token: string): FlagSpec | undefined {
  const name = token.replace(/^--?/, '');
  return specs.find((s) => s.name === name || s.alias === name);
}

/**
 * Parses flags then operands. With `stopAtOperand`, parsing ends at the first operand and the
 * rest is returned untouched (the global flags before the subcommand's name).
 */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], stopAtOperand = false): ParsedArgs {
  const flags = new Map<string, string | boolean | string[]>();
  const operands: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      i++;
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      if (stopAtOperand) break;
      operands.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const head = eq >= 0 ? token.slice(0, eq) : token;
    const spec = findFlag(specs, head);
    if (!spec) throw new UserError(`flag provided but not defined: ${head}`);
    if (spec.kind === 'bool') {
      const value = eq >= 0 ? token.slice(eq + 1) : 'true';
      if (value !== 'true' && value !== 'false') throw new UserError(`invalid boolean value "${value}" for flag ${head}`);
      flags.set(spec.name, value === 'true');
      continue;
    }
    let value: string;
    if (eq >= 0) value = token.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UserError(`flag needs an argument: ${head}`);
      value = argv[++i]!;
    }
    if (spec.kind === 'strings') flags.set(spec.name, [...((flags.get(spec.name) as string[] | undefined) ?? []), value]);
    else flags.set(spec.name, value);
  }
  operands.push(...argv.slice(i));
  return { flags, operands };
}

export function stringFlag(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(p: ParsedArgs, name: string): boolean {
  return p.flags.get(name) === true;
}

export function stringsFlag(p: ParsedArgs, name: string): string[] {
  const v = p.flags.get(name);
  return Array.isArray(v) ? v : [];
}

export function intFlag(p: ParsedArgs, name: string, fallback: number): number {
  const v = stringFlag(p, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new UserError(`invalid value "${v}" for flag --${name}: not a non-negative integer`);
  return Number(v);
}

/** runc's check of the operand count: `<id>` exactly, or at least one. */
export function requireOperands(p: ParsedArgs, command: string, min: number, max = min): void {
  const n = p.operands.length;
  if (n < min || n > max) {
    const want = min === max ? `exactly ${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new UserError(`"${command}" requires ${want} argument(s)`);
  }
}
