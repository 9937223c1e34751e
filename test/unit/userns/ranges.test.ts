/** The id-range rules and the allocator's file (no root needed: a temp run dir, no grants). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allocateRange, freeRange, rangeOf } from '../../../src/userns/allocator.js';
import { FIRST_SLOT, IDS_PER_POD, SLOT_COUNT, idMapText, parseSubordinateIds, pickSlot, rangeOfSlot } from '../../../src/userns/ranges.js';
import { minipodPaths, podRunDir, usernsFiles, type MinipodPaths } from '../../../src/paths.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';

const sys = new RecordingSyscall();

describe('id ranges', () => {
  it('are 65536 ids from 2^30, below 2^31', () => {
    expect(rangeOfSlot(0)).toEqual({ base: 2 ** 30, size: 65536 });
    expect(rangeOfSlot(1).base).toBe(2 ** 30 + 65536);
    const last = rangeOfSlot(SLOT_COUNT - 1);
    expect(last.base + last.size - 1).toBe(2 ** 31 - 1);
    expect(FIRST_SLOT * IDS_PER_POD).toBe(2 ** 30);
  });

  it('picks the lowest free slot, skipping used ones and /etc/subuid ranges', () => {
    expect(pickSlot(new Set(), [])).toBe(0);
    expect(pickSlot(new Set([0, 1, 3]), [])).toBe(2);
    // A subuid entry overlapping slot 0 and 1 (by one id into slot 1).
    expect(pickSlot(new Set(), [{ base: 2 ** 30 - 10, size: 65536 + 11 }])).toBe(2);
    // Entries of real users (100000 + 65536 n) never touch the slots.
    expect(pickSlot(new Set(), parseSubordinateIds('alice:100000:65536\nbob:165536:65536\n'))).toBe(0);
    expect(pickSlot(new Set(Array.from({ length: SLOT_COUNT }, (_, i) => i)), [])).toBeUndefined();
  });

  it('parses /etc/subuid and skips junk', () => {
    expect(parseSubordinateIds('# c\nalice:100000:65536\nbad line\nx:1:0\n\nbob:200000:10')).toEqual([
      { base: 100000, size: 65536 },
      { base: 200000, size: 10 },
    ]);
  });

  it('writes one map line for uid_map and gid_map', () => {
    expect(idMapText({ base: 2 ** 30, size: 65536 })).toBe('0 1073741824 65536\n');
  });
});

describe('the allocator', () => {
  let dir: string;
  let paths: MinipodPaths;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-userns-'));
    paths = minipodPaths({ MINIPOD_RUN_DIR: path.join(dir, 'run'), MINIPOD_LIB_DIR: path.join(dir, 'lib') });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const claim = (pod: string): void => fs.mkdirSync(podRunDir(paths, pod), { recursive: true });

  it('gives disjoint ranges, the same one again to the same pod, and reuses a freed one', async () => {
    claim('a');
    claim('b');
    const a = await allocateRange(sys, paths, 'a', []);
    const b = await allocateRange(sys, paths, 'b', []);
    expect(a.base).not.toBe(b.base);
    expect(Math.abs(a.base - b.base)).toBeGreaterThanOrEqual(65536);
    expect(await allocateRange(sys, paths, 'a', [])).toEqual(a);
    expect(rangeOf(paths, 'b')).toEqual(b);
    await freeRange(sys, paths, 'a');
    expect(rangeOf(paths, 'a')).toBeUndefined();
    claim('c');
    expect(await allocateRange(sys, paths, 'c', [])).toEqual(a);
    expect(JSON.parse(fs.readFileSync(usernsFiles(paths).ranges, 'utf8')).pods).toHaveProperty('b');
  });

  it('takes back the range of a pod whose run dir is gone (its supervisor died before teardown)', async () => {
    claim('gone');
    const r = await allocateRange(sys, paths, 'gone', []);
    fs.rmSync(podRunDir(paths, 'gone'), { recursive: true });
    claim('next');
    expect(await allocateRange(sys, paths, 'next', [])).toEqual(r);
    expect(rangeOf(paths, 'gone')).toBeUndefined();
  });

  it('allocates under concurrency without handing a range out twice', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `p${i}`);
    names.forEach(claim);
    const ranges = await Promise.all(names.map((n) => allocateRange(sys, paths, n, [])));
    expect(new Set(ranges.map((r) => r.base)).size).toBe(names.length);
  });

  it('freeing a pod without a range does nothing', async () => {
    await freeRange(sys, paths, 'never');
    expect(fs.existsSync(usernsFiles(paths).ranges)).toBe(false);
  });
});
