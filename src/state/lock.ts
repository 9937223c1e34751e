/**
 * A small inter-process lock: for the network registry (port reservations, pod network state)
 * and for commands that change one pod (stop, rm, restart, gc), so two of them cannot race.
 *
 * Node has no flock(2), so this is an O_EXCL lock file holding the owner's pid. A lock whose
 * owner is dead (kill -9 of minipod) is taken over. The takeover has a tiny race between two
 * waiters that both saw the same dead owner; it only matters right after a crash and the worst
 * case is two commands updating the registry at once, which the atomic rename of each file
 * keeps from corrupting anything.
 */
import fs from 'node:fs';
import path from 'node:path';

function ownerAlive(lockFile: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(lockFile, 'utf8'), 10);
  } catch {
    return true; // vanished or unreadable: just retry
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!ownerAlive(lockFile)) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockFile}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/** Writes a file so readers never see half of it. */
export function writeFileAtomic(file: string, text: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}
