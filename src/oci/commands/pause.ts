/**
 * `pause ID` / `resume ID` (runc's): freeze or thaw every process of the container through the
 * cgroup manager (v2 cgroup.freeze, v1 the freezer hierarchy); `state` shows `paused` after.
 */
import { UserError } from '../../errors.js';
import { requireOperands } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { cgroupOf, loadTarget, notRunning } from '../client/target.js';

function freezer(frozen: boolean): OciCommand {
  const verb = frozen ? 'pause' : 'resume';
  return {
    flags: [],
    async run(ctx, args) {
      requireOperands(args, verb, 1);
      const { record, status } = loadTarget(ctx.global.root, args.operands[0]!);
      // runc: a running or created container pauses; anything else (paused too) is not running.
      if (frozen && status !== 'running' && status !== 'created') throw notRunning();
      if (!frozen && status !== 'paused') {
        if (status === 'running') throw new UserError('container not paused', { code: 'oci.not-paused' });
        throw notRunning();
      }
      const { manager, name } = cgroupOf(record);
      await manager.setFrozen(name, undefined, frozen);
      return 0;
    },
  };
}

export const pauseCommand = freezer(true);
export const resumeCommand = freezer(false);
