/**
 * `start ID`: open the exec fifo, which releases the init blocked on it (protocol.ts o3), then
 * the poststart hooks. On every container's start path: loads the store and nothing heavy.
 */
import fs from 'node:fs';
import { UserError } from '../../errors.js';
import { requireOperands } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { initAlive, StateStore, statusOf } from '../state/store.js';

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Reads the init's byte from the fifo; fails if the init dies first. */
function releaseInit(fifo: string, isAlive: () => boolean): void {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    for (let i = 0; ; i++) {
      try {
        if (fs.readSync(fd, buf, 0, 1, null) === 1) return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      // Checked after the read: a writer may need a moment to see us and write.
      if (i > 2 && !isAlive()) throw new UserError('cannot start a container that has stopped');
      sleep(i < 20 ? 1 : 10);
    }
  } finally {
    fs.closeSync(fd);
  }
}

export const startCommand: OciCommand = {
  flags: [],
  async run(ctx, args) {
    requireOperands(args, 'start', 1);
    const store = new StateStore(ctx.global.root);
    const record = store.load(args.operands[0]!);
    const status = statusOf(store, record);
    if (status === 'stopped') throw new UserError('cannot start a container that has stopped');
    if (status !== 'created') throw new UserError(`cannot start an already ${status} container`);
    const fifo = store.fifo(record.id);
    releaseInit(fifo, () => initAlive(record));
    fs.rmSync(fifo, { force: true });
    const poststart = record.hooks?.poststart ?? [];
    if (poststart.length > 0) {
      const { runHooksSync } = await import('../../process/oci-hooks.js');
      try {
        runHooksSync('poststart', poststart, {
          ociVersion: record.ociVersion,
          id: record.id,
          status: 'running',
          pid: record.pid,
          bundle: record.bundle,
          annotations: record.annotations,
        });
      } catch (err) {
        // runtime.md: a failed poststart hook is a warning; the life cycle goes on.
        ctx.log.write('warning', (err as Error).message);
      }
    }
    return 0;
  },
};
