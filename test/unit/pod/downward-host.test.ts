/** The host's side of the downward API (src/pod/downward-host.ts): read once per few seconds, not per pod. */
import { describe, expect, it } from 'vitest';
import { hostDownward } from '../../../src/pod/downward-host.js';

describe("the host's downward values", () => {
  it('are read again only after a few seconds, or for another lib dir', () => {
    const first = hostDownward('/tmp', 1_000_000);
    expect(first.allocatable.cpuMilli).toBeGreaterThan(0);
    expect(hostDownward('/tmp', 1_004_000)).toBe(first);
    expect(hostDownward('/', 1_004_000)).not.toBe(first);
    const again = hostDownward('/', 1_010_000);
    expect(again).toEqual(expect.objectContaining({ nodeName: first.nodeName }));
    expect(hostDownward('/', 1_010_000)).toBe(again);
  });
});
