import { describe, expect, it } from 'vitest';
import { fmt, fmtRatio, median, percentile, ratio, summarize } from '../../../bench/stats.js';

describe('percentile', () => {
  it('interpolates between closest ranks', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 0.1)).toBeCloseTo(14);
    expect(percentile([10, 20, 30, 40, 50], 0.9)).toBeCloseTo(46);
  });

  it('does not depend on input order and does not sort the input in place', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile(xs, 1)).toBe(5);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
  });

  it('handles one sample and none', () => {
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('rejects quantiles outside 0..1', () => {
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });
});

describe('median and summarize', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('summarizes', () => {
    const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s).toMatchObject({ n: 10, median: 5.5, min: 1, max: 10, mean: 5.5 });
    expect(s.p10).toBeCloseTo(1.9);
    expect(s.p90).toBeCloseTo(9.1);
  });

  it('empty samples give NaNs, not a throw', () => {
    expect(summarize([]).n).toBe(0);
    expect(summarize([]).median).toBeNaN();
  });
});

describe('ratio', () => {
  it('divides medians', () => {
    expect(ratio(summarize([30, 30, 30]), summarize([10, 10]))).toBe(3);
  });

  it('is undefined when a side is missing or the peer is zero', () => {
    expect(ratio(undefined, summarize([1]))).toBeUndefined();
    expect(ratio(summarize([1]), summarize([]))).toBeUndefined();
    expect(ratio(summarize([1]), summarize([0]))).toBeUndefined();
  });
});

describe('formatting', () => {
  it('uses fewer decimals for larger numbers', () => {
    expect(fmt(1.234)).toBe('1.23');
    expect(fmt(12.34, ' ms')).toBe('12.3 ms');
    expect(fmt(123.4)).toBe('123');
    expect(fmt(undefined)).toBe('–');
    expect(fmtRatio(2.345)).toBe('2.35x');
    expect(fmtRatio(undefined)).toBe('–');
  });
});
