import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeError, fsHostError, HostError, withContext } from '../../../src/errors.js';
import { removeStaleTempFiles, writeFileAtomic, writeFileAtomicAsync } from '../../../src/state/lock.js';

let dir: string | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function fsError(code: string, syscall: string, file?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: no space left on device, ${syscall}`), { code, syscall, ...(file ? { path: file } : {}) });
}

/** A disk that fills half-way through the write: the temp file is left half-written, then ENOSPC. */
function diskFillsDuringWrite(): void {
  const real = fs.writeFileSync;
  vi.spyOn(fs, 'writeFileSync').mockImplementation((file, data, options) => {
    real(file as string, String(data).slice(0, 3), options as fs.WriteFileOptions);
    throw fsError('ENOSPC', 'write');
  });
}

describe('writeFileAtomic on a full disk', () => {
  it('keeps the old file whole and leaves no temp file', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-atomic-'));
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, '{"old":true}\n');
    diskFillsDuringWrite();
    expect(() => writeFileAtomic(file, '{"new":true}\n')).toThrow(/ENOSPC/);
    vi.restoreAllMocks();
    expect(fs.readFileSync(file, 'utf8')).toBe('{"old":true}\n');
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('async: the same', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-atomic-'));
    const file = path.join(dir, 'state.json');
    vi.spyOn(fs.promises, 'writeFile').mockImplementation(async (f) => {
      fs.appendFileSync(f as string, 'hal');
      throw fsError('ENOSPC', 'write');
    });
    await expect(writeFileAtomicAsync(file, 'data')).rejects.toThrow(/ENOSPC/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('a full or read-only filesystem is the host state, named by path', () => {
  it('turns ENOSPC into a HostError with the path and a hint about that filesystem', () => {
    const e = fsHostError(fsError('ENOSPC', 'open', '/run/minipod/pods/web/state.json.1-ab.tmp'));
    expect(e).toBeInstanceOf(HostError);
    expect(e!.message).toBe('open /run/minipod/pods/web/state.json.1-ab.tmp: ENOSPC');
    expect(e!.hint).toMatch(/^the filesystem \(\/run\/minipod\/pods\/web\) is full/);
  });

  it('keeps the kind through context, and prints as host: / check:', () => {
    const wrapped = withContext('start pod web', fsError('EROFS', 'mkdir', '/var/lib/minipod/pods/web'));
    expect(wrapped).toBeInstanceOf(HostError);
    expect(describeError(wrapped).lines).toEqual([
      'host: start pod web: mkdir /var/lib/minipod/pods/web: EROFS',
      'check: the filesystem (/var/lib/minipod/pods) is mounted read-only: remount it read-write, or point MINIPOD_RUN_DIR / MINIPOD_LIB_DIR elsewhere',
    ]);
  });

  it('leaves other fs errors alone (ENOENT is not a full disk)', () => {
    expect(fsHostError(fsError('ENOENT', 'open', '/x'))).toBeUndefined();
  });
});

describe('removeStaleTempFiles', () => {
  it("removes only temp files whose writer is dead, and nothing that is not one of writeFileAtomic's", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-atomic-'));
    const names = ['soak-24.json.7368-31a16119.tmp', 'a.json.100-0badc0de.tmp', 'a.json', 'notes.tmp', 'b.json.7368-xyz.tmp'];
    for (const n of names) fs.writeFileSync(path.join(dir, n), '{');
    const removed = removeStaleTempFiles(dir, (pid) => pid === 100);
    expect(removed).toEqual([path.join(dir, 'soak-24.json.7368-31a16119.tmp')]);
    expect(fs.readdirSync(dir).sort()).toEqual(['a.json', 'a.json.100-0badc0de.tmp', 'b.json.7368-xyz.tmp', 'notes.tmp']);
  });

  it('is quiet about a directory that does not exist', () => {
    expect(removeStaleTempFiles('/nonexistent/minipod', () => false)).toEqual([]);
  });
});
