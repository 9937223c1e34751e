/**
 * Kubernetes resource quantities (`500m`, `1.5Gi`, `128974848`, `129e6`, `1E`).
 *
 * Grammar (k8s.io/apimachinery/pkg/api/resource):
 *   <quantity>  ::= <sign>? <digits> [ "." <digits>? ] <suffix> | <sign>? "." <digits> <suffix>
 *   <suffix>    ::= "" | m | k | M | G | T | P | E | Ki | Mi | Gi | Ti | Pi | Ei | (e|E) <sign>? <digits>
 *
 * Arithmetic is exact (BigInt) so that `0.1` cpu is 100m and not 100.00000000000001m, and the
 * rounding is Kubernetes': a fractional result rounds up (MilliValue/Value use ceiling).
 */
import { UserError } from '../errors.js';

/** A quantity that cannot be used; `reason` is the message without the offending value. */
export class QuantityError extends UserError {
  override name = 'QuantityError';
  readonly reason: string;
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`${quoteQuantity(input)} ${reason}`, { code: 'quantity.invalid' });
    this.input = input;
    this.reason = reason;
  }
}

/** Longest accepted quantity text; real ones are short, and this bounds the BigInt work. */
const MAX_QUANTITY_LENGTH = 64;

const QUANTITY_RE = /^([+-]?)(\d*)(?:\.(\d*))?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;

const BINARY_SHIFT: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXP: Record<string, number> = { m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** value = mantissa * 10^exp10 * 2^exp2, with mantissa >= 0 an integer. */
interface Exact {
  mantissa: bigint;
  exp10: number;
  exp2: number;
}

function quoteQuantity(input: string): string {
  const s = JSON.stringify(input);
  return s.length > 80 ? `${s.slice(0, 76)}..."` : s;
}

/** Accepts what a manifest may hold: a string, or a plain JSON/YAML number. */
function quantityText(q: string | number): string {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new QuantityError(String(q), 'is not a valid quantity');
    // String(1e21) is "1e+21", which the grammar accepts.
    return String(q);
  }
  return q;
}

function parseExact(text: string): Exact {
  if (text.length === 0 || text.length > MAX_QUANTITY_LENGTH) {
    throw new QuantityError(text, 'is not a valid quantity');
  }
  const m = QUANTITY_RE.exec(text);
  if (!m) throw new QuantityError(text, 'is not a valid quantity');
  const [, sign, intPart = '', fracPart = '', suffix = ''] = m;
  if (intPart === '' && fracPart === '') throw new QuantityError(text, 'is not a valid quantity');
  const mantissa = BigInt(`${intPart}${fracPart}` || '0');
  if (sign === '-' && mantissa !== 0n) throw new QuantityError(text, 'must not be negative');
  let exp10 = -fracPart.length;
  let exp2 = 0;
  if (suffix in BINARY_SHIFT) exp2 = BINARY_SHIFT[suffix]!;
  else if (suffix in DECIMAL_EXP) exp10 += DECIMAL_EXP[suffix]!;
  else if (suffix !== '') {
    const e = Number(suffix.slice(1));
    // A huge exponent is either an overflow or rounds to the smallest unit; clamp to keep
    // the BigInt powers small without changing either outcome.
    exp10 += Math.max(-400, Math.min(400, e));
  }
  return { mantissa, exp10, exp2 };
}

/** ceil(value * 10^scale10) as a safe integer, or throws. */
function toUnits(text: string, q: Exact, scale10: number, unit: string): number {
  if (q.mantissa === 0n) return 0;
  let num = q.mantissa * (1n << BigInt(q.exp2));
  let den = 1n;
  const e = q.exp10 + scale10;
  if (e >= 0) num *= 10n ** BigInt(e);
  else den = 10n ** BigInt(-e);
  const units = (num + den - 1n) / den;
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuantityError(text, `is too large (more than ${Number.MAX_SAFE_INTEGER} ${unit})`);
  }
  return Number(units);
}

/** Checks the syntax only; the value may be any non-negative quantity. */
export function isValidQuantity(q: string | number): boolean {
  try {
    parseExact(quantityText(q));
    return true;
  } catch {
    return false;
  }
}

/** CPU in millicores, rounded up as Kubernetes does (`0.0001` is 1m). */
export function parseCpuMilli(q: string | number): number {
  const text = quantityText(q);
  return toUnits(text, parseExact(text), 3, 'millicores');
}

/** Memory or storage in bytes, rounded up to a whole byte (`1500m` is 2). */
export function parseBytes(q: string | number): number {
  const text = quantityText(q);
  return toUnits(text, parseExact(text), 0, 'bytes');
}

const BINARY_UNITS: [string, number][] = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/**
 * Bytes for people: exact values stay valid quantities (`128Mi`, `1000`), others get at most two
 * decimals in the largest binary unit that fits (`1.46Ki`).
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? '-' : '';
  const abs = Math.abs(bytes);
  for (const [unit, size] of BINARY_UNITS) {
    if (abs >= size) {
      const v = abs / size;
      if (Number.isInteger(v)) return `${sign}${v}${unit}`;
      return `${sign}${trimDecimals(v.toFixed(2))}${unit}`;
    }
  }
  return `${sign}${Number.isInteger(abs) ? abs : trimDecimals(abs.toFixed(2))}`;
}

/** Millicores as a Kubernetes quantity: whole cpus plain (`2`), otherwise millis (`1500m`). */
export function formatCpu(milli: number): string {
  if (!Number.isFinite(milli)) return String(milli);
  if (Number.isInteger(milli) && milli % 1000 === 0) return String(milli / 1000);
  return `${Number.isInteger(milli) ? milli : trimDecimals(milli.toFixed(3))}m`;
}

function trimDecimals(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
