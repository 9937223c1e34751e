/** `create [--bundle B] [--pid-file F] [--console-socket S] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID`. */
import { intFlag, requireOperands, stringFlag, boolFlag } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { createContainer, detachInit } from '../executor/create.js';
import { StateStore } from '../state/store.js';

export const CREATE_FLAGS = [
  { name: 'bundle', alias: 'b', kind: 'string' },
  { name: 'pid-file', kind: 'string' },
  { name: 'console-socket', kind: 'string' },
  { name: 'no-pivot', kind: 'bool' },
  { name: 'no-new-keyring', kind: 'bool' },
  { name: 'preserve-fds', kind: 'string' },
  { name: 'keep', kind: 'bool' },
  { name: 'detach', alias: 'd', kind: 'bool' },
] as const;

export const createCommand: OciCommand = {
  flags: CREATE_FLAGS,
  async run(ctx, args) {
    requireOperands(args, 'create', 1);
    if (boolFlag(args, 'no-pivot')) {
      // pivot_root is refused on a ramfs root only; minipod-oci's roots are directories or overlays.
      ctx.log.write('warning', '--no-pivot: minipod-oci always uses pivot_root');
    }
    const { helper } = await createContainer(new StateStore(ctx.global.root), {
      id: args.operands[0]!,
      bundle: stringFlag(args, 'bundle') ?? process.cwd(),
      pidFile: stringFlag(args, 'pid-file'),
      consoleSocket: stringFlag(args, 'console-socket'),
      preserveFds: intFlag(args, 'preserve-fds', 0),
      warn: (m) => ctx.log.write('warning', m),
    });
    detachInit(helper);
    return 0;
  },
};
