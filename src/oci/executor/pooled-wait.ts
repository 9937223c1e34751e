/**
 * A pooled create's wait (src/oci/config/pooled.ts): its helper has booted in the stub's
 * namespaces; the real config.json arrives by rename over the stub. inotify on the bundle wakes
 * it; a slow poll also notices the daemon that pooled it gone (the entry is an orphan: it exits
 * with an error, and conmon with it) and the daemon's abort marker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { isAlive } from '../../state/pod-state.js';
import { parsePooledStub, POOLED_FILES, type PooledStub } from '../config/pooled.js';

export interface PooledWaitOptions {
  /** Rejects the wait when it resolves (the helper died meanwhile). */
  helperGone: Promise<unknown>;
  pollMs?: number;
}

/** Resolves with the real config (parsed), or rejects: aborted, owner gone, helper gone. */
export function waitForPooledConfig(bundle: string, stub: PooledStub, o: PooledWaitOptions): Promise<unknown> {
  const file = path.join(bundle, 'config.json');
  return new Promise((resolve, reject) => {
    let done = false;
    let watcher: fs.FSWatcher | undefined;
    const finish = (err: Error | undefined, config?: unknown): void => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(timer);
      if (err) reject(err);
      else resolve(config);
    };
    const check = (): void => {
      if (done) return;
      if (fs.existsSync(path.join(bundle, POOLED_FILES.abort)) || !fs.existsSync(bundle)) {
        return finish(new UserError('pooled create aborted (the daemon drained its pool)'));
      }
      let config: unknown;
      try {
        config = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        return; // not there yet (the rename is atomic, a half-written file is never read)
      }
      try {
        if (!parsePooledStub(config)) finish(undefined, config);
      } catch (err) {
        finish(err as Error);
      }
    };
    const timer = setInterval(() => {
      if (!isAlive(stub.owner)) finish(new UserError(`pooled create: the daemon that pooled it (pid ${stub.owner.pid}) is gone`));
      else check();
    }, o.pollMs ?? 500);
    try {
      watcher = fs.watch(bundle, () => check());
      watcher.on('error', () => watcher?.close());
    } catch {
      // No inotify: the poll alone.
    }
    void o.helperGone.then(() => finish(new UserError('the container init exited while waiting for its config')));
    check();
  });
}
