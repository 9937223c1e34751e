/**
 * Summaries of timing samples. Pure functions, unit-tested (test/unit/bench/stats.test.ts):
 * the report's claims rest on them.
 */

export interface Summary {
  n: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * The q-quantile (0..1) by linear interpolation between closest ranks (numpy's default,
 * "type 7"), so p10/p90 of a few samples stay between real observations.
 */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  if (q < 0 || q > 1) throw new RangeError(`quantile ${q} outside 0..1`);
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) {
    return { n: 0, median: NaN, p10: NaN, p90: NaN, min: NaN, max: NaN, mean: NaN };
  }
  return {
    n: samples.length,
    median: median(samples),
    p10: percentile(samples, 0.1),
    p90: percentile(samples, 0.9),
    min: Math.min(...samples),
    max: Math.max(...samples),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

/** minipod / peer on medians; undefined when either side is missing or the peer is 0. */
export function ratio(ours: Summary | undefined, peer: Summary | undefined): number | undefined {
  if (!ours || !peer || ours.n === 0 || peer.n === 0 || peer.median === 0) return undefined;
  return ours.median / peer.median;
}

/** "12.3" for ms, with fewer decimals as numbers grow, so tables stay narrow. */
export function fmt(value: number | undefined, unit = ''): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit}`;
}

export function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}x`;
}
