import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockFile } from '../../../src/state/lock.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';

let dir: string | undefined;
afterEach(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

/** A Syscall whose flock reports the lock held by someone else `busy` times. */
class BusyLock extends RecordingSyscall {
  constructor(private busy: number) {
    super();
  }
  override flock(fd: number, operation: 'shared' | 'exclusive' | 'unlock'): boolean {
    super.flock(fd, operation);
    return operation === 'unlock' || this.busy-- <= 0;
  }
}

describe('lockFile through the Syscall seam', () => {
  it('polls a held lock, says once that it waits, and unlocks on release', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-lock-'));
    const sys = new BusyLock(2);
    let waits = 0;
    const lock = await lockFile(path.join(dir, 'l'), 'exclusive', 'the test lock', { sys, onWait: () => waits++ });
    await lock.release();
    expect(sys.callsOf('flock').map((c) => c[1])).toEqual(['exclusive', 'exclusive', 'exclusive', 'unlock']);
    expect(waits).toBe(1);
  });

  it('gives up after the timeout with a line naming what it waited for', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-lock-'));
    await expect(lockFile(path.join(dir, 'l'), 'shared', 'the image store', { sys: new BusyLock(1e9), timeoutMs: 50 })).rejects.toThrow(
      'timed out waiting for the image store (held by another minipod process)',
    );
  });

  it('takes a real lock on the host (flock needs no root)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-lock-'));
    const file = path.join(dir, 'l');
    const first = await lockFile(file, 'exclusive', 'x');
    await expect(lockFile(file, 'exclusive', 'x', { timeoutMs: 60 })).rejects.toThrow(/timed out/);
    await first.release();
    await (await lockFile(file, 'exclusive', 'x', { timeoutMs: 60 })).release();
  });
});
