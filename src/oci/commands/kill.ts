/** `kill [--all] ID [SIGNAL]` (default SIGTERM). */
import { UserError } from '../../errors.js';
import { boolFlag, requireOperands } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { cgroupPids } from '../executor/cgroup.js';
import { StateStore, statusOf } from '../state/store.js';
import { parseSignal } from './signals.js';

export const killCommand: OciCommand = {
  flags: [{ name: 'all', alias: 'a', kind: 'bool' }],
  run(ctx, args) {
    requireOperands(args, 'kill', 1, 2);
    const store = new StateStore(ctx.global.root);
    const record = store.load(args.operands[0]!);
    const signal = parseSignal(args.operands[1] ?? 'SIGTERM');
    if (statusOf(store, record) === 'stopped') throw new UserError('container not running');
    const pids = boolFlag(args, 'all') ? cgroupPids(record.cgroup) : [record.pid];
    if (!pids.includes(record.pid)) pids.push(record.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        if (pid === record.pid) throw new UserError('container not running');
      }
    }
    return 0;
  },
};
