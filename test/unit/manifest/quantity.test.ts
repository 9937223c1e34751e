import { describe, expect, it } from 'vitest';
import { formatBytes, formatCpu, parseBytes, parseCpuMilli, QuantityError } from '../../../src/manifest/quantity.js';
import { UserError } from '../../../src/errors.js';

describe('parseCpuMilli', () => {
  it.each<[string | number, number]>([
    ['1', 1000],
    ['0', 0],
    ['-0', 0],
    ['+2', 2000],
    ['500m', 500],
    ['0.5', 500],
    ['.5', 500],
    ['1.', 1000],
    ['0.1', 100],
    ['0.0001', 1], // rounds up, as Kubernetes' MilliValue
    ['1.0005', 1001],
    ['100m', 100],
    ['1500m', 1500],
    ['1k', 1_000_000],
    ['1e3', 1_000_000],
    ['1E3', 1_000_000],
    ['1e-3', 1],
    ['2.5e-1', 250],
    ['1e-999999', 1],
    ['0e999999', 0],
    ['1Ki', 1_024_000],
    [2, 2000],
    [0.25, 250],
    [1e-7, 1],
  ])('%s -> %d millicores', (q, want) => {
    expect(parseCpuMilli(q)).toBe(want);
  });
});

describe('parseBytes', () => {
  it.each<[string | number, number]>([
    ['0', 0],
    ['128974848', 128974848],
    ['129e6', 129_000_000],
    ['129M', 129_000_000],
    ['123Mi', 123 * 2 ** 20],
    ['1Ki', 1024],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['1k', 1000],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1Ti', 2 ** 40],
    ['1Pi', 2 ** 50],
    ['7Pi', 7 * 2 ** 50],
    ['1500m', 2], // rounds up to whole bytes
    ['1m', 1],
    ['0.5Ki', 512],
    ['0.1Ki', 103], // 102.4 -> 103
    ['6Mi', 6 * 2 ** 20],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    [1048576, 1048576],
    [1e21 / 1e12, 1e9],
  ])('%s -> %d bytes', (q, want) => {
    expect(parseBytes(q)).toBe(want);
  });

  it.each<[string | number, string]>([
    ['12XB', '"12XB" is not a valid quantity'],
    ['', '"" is not a valid quantity'],
    ['abc', '"abc" is not a valid quantity'],
    ['1 Gi', '"1 Gi" is not a valid quantity'],
    [' 1', '" 1" is not a valid quantity'],
    ['1gi', '"1gi" is not a valid quantity'],
    ['1KiB', '"1KiB" is not a valid quantity'],
    ['1e', '"1e" is not a valid quantity'],
    ['1e3Ki', '"1e3Ki" is not a valid quantity'],
    ['.', '"." is not a valid quantity'],
    ['1.2.3', '"1.2.3" is not a valid quantity'],
    ['0x10', '"0x10" is not a valid quantity'],
    ['NaN', '"NaN" is not a valid quantity'],
    ['Infinity', '"Infinity" is not a valid quantity'],
    [NaN, '"NaN" is not a valid quantity'],
    [Infinity, '"Infinity" is not a valid quantity'],
    ['-1', '"-1" must not be negative'],
    ['-1Gi', '"-1Gi" must not be negative'],
    [-5, '"-5" must not be negative'],
    ['1E', '"1E" is too large (more than 9007199254740991 bytes)'],
    ['8Pi', '"8Pi" is too large (more than 9007199254740991 bytes)'],
    ['9007199254740992', '"9007199254740992" is too large (more than 9007199254740991 bytes)'],
    ['1e400', '"1e400" is too large (more than 9007199254740991 bytes)'],
    ['1'.repeat(65), `"${'1'.repeat(65)}" is not a valid quantity`],
  ])('%s is refused: %s', (q, message) => {
    let err: unknown;
    try {
      parseBytes(q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QuantityError);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(message);
  });

  it('overflow in millicores says millicores', () => {
    expect(() => parseCpuMilli('10P')).toThrow('"10P" is too large (more than 9007199254740991 millicores)');
  });
});

describe('format', () => {
  it.each<[number, string]>([
    [0, '0'],
    [512, '512'],
    [1024, '1Ki'],
    [1500, '1.46Ki'],
    [128 * 2 ** 20, '128Mi'],
    [1.5 * 2 ** 30, '1.5Gi'],
    [2 ** 60, '1Ei'],
  ])('formatBytes(%d) = %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });

  it.each<[number, string]>([
    [0, '0'],
    [1000, '1'],
    [2000, '2'],
    [500, '500m'],
    [1500, '1500m'],
  ])('formatCpu(%d) = %s', (n, s) => {
    expect(formatCpu(n)).toBe(s);
  });

  it('exact formats parse back to the same value', () => {
    for (const n of [0, 1, 1024, 3 * 2 ** 20, 5 * 2 ** 30]) expect(parseBytes(formatBytes(n))).toBe(n);
    for (const n of [0, 1, 10, 500, 1000, 2500]) expect(parseCpuMilli(formatCpu(n))).toBe(n);
  });
});
