/** `list [--format table|json] [-q]`: every container under --root, as runc lists them. */
import { UserError } from '../../errors.js';
import { boolFlag, requireOperands, stringFlag } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { type OciState, StateStore, stateOf } from '../state/store.js';

export function renderTable(states: readonly OciState[]): string {
  const rows = [
    ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner || 'root']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}

export const listCommand: OciCommand = {
  flags: [
    { name: 'format', alias: 'f', kind: 'string' },
    { name: 'quiet', alias: 'q', kind: 'bool' },
  ],
  run(ctx, args) {
    requireOperands(args, 'list', 0);
    const format = stringFlag(args, 'format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UserError(`invalid format option "${format}" (table or json)`);
    const store = new StateStore(ctx.global.root);
    const states = store.ids().flatMap((id) => {
      const r = store.find(id);
      return r ? [stateOf(store, r)] : [];
    });
    if (boolFlag(args, 'quiet')) process.stdout.write(states.map((s) => s.id + '\n').join(''));
    else if (format === 'json') process.stdout.write(JSON.stringify(states) + '\n');
    else process.stdout.write(renderTable(states));
    return 0;
  },
};
