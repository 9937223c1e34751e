/**
 * `delete [--force] ID`: a stopped or created container goes; a running one only with --force
 * (SIGKILL first). Then its cgroup, the poststop hooks (a failure is a warning), its state.
 */
import { UserError } from '../../errors.js';
import { boolFlag, requireOperands } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { destroyCgroup } from '../executor/cgroup.js';
import { type ContainerRecord, initAlive, StateStore, statusOf } from '../state/store.js';
import type { OciLog } from '../cli/log.js';

async function waitGone(record: ContainerRecord, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (initAlive(record) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

export async function destroyContainer(store: StateStore, record: ContainerRecord, log: OciLog): Promise<void> {
  if (initAlive(record)) {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
    await waitGone(record, 5_000);
  }
  await destroyCgroup(record.cgroup);
  const poststop = record.hooks?.poststop ?? [];
  if (poststop.length > 0) {
    const { runHooksSync } = await import('../../process/oci-hooks.js');
    try {
      runHooksSync('poststop', poststop, {
        ociVersion: record.ociVersion,
        id: record.id,
        status: 'stopped',
        bundle: record.bundle,
        annotations: record.annotations,
      });
    } catch (err) {
      log.write('warning', (err as Error).message);
    }
  }
  store.remove(record.id);
}

export const deleteCommand: OciCommand = {
  flags: [{ name: 'force', alias: 'f', kind: 'bool' }],
  async run(ctx, args) {
    requireOperands(args, 'delete', 1);
    const store = new StateStore(ctx.global.root);
    const id = args.operands[0]!;
    const force = boolFlag(args, 'force');
    const record = store.find(id);
    if (!record) {
      // A create that died before its record: nothing of it is left but the directory.
      store.remove(id);
      if (force) return 0;
      throw new UserError(`container ${id} does not exist`);
    }
    const status = statusOf(store, record);
    if ((status === 'running' || status === 'paused') && !force) {
      throw new UserError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    await destroyContainer(store, record, ctx.log);
    return 0;
  },
};
