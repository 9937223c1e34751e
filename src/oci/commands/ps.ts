/** `ps [--format table|json] ID [ps options...]` (runc's ps.go). */
import { spawnSync } from 'node:child_process';
import { HostError } from '../../errors.js';
import { requireOperands, stringFlag } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { cgroupOf, loadTarget } from '../client/target.js';
import { filterPsTable, parsePsFormat, psJson } from '../client/ps-output.js';

export const psCommand: OciCommand = {
  flags: [{ name: 'format', alias: 'f', kind: 'string' }],
  stopAtFirstOperand: true,
  run(ctx, args) {
    requireOperands(args, 'ps', 1, Infinity);
    const format = parsePsFormat(stringFlag(args, 'format'));
    const { record } = loadTarget(ctx.global.root, args.operands[0]!);
    const { manager, name } = cgroupOf(record);
    const pids = manager.pids(name);
    if (format === 'json') {
      process.stdout.write(psJson(pids));
      return 0;
    }
    const psArgs = args.operands.length > 1 ? args.operands.slice(1) : ['-ef'];
    const ps = spawnSync('ps', psArgs, { encoding: 'utf8' });
    if (ps.error || ps.status !== 0) {
      throw new HostError(`ps ${psArgs.join(' ')}: ${ps.error?.message ?? (ps.stderr || `exit ${ps.status}`).trim()}`);
    }
    process.stdout.write(filterPsTable(ps.stdout, pids));
    return 0;
  },
};
