/** `state ID`: the runtime spec's state JSON, indented as runc prints it. */
import { requireOperands } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { StateStore, stateOf } from '../state/store.js';

export const stateCommand: OciCommand = {
  flags: [],
  run(ctx, args) {
    requireOperands(args, 'state', 1);
    const store = new StateStore(ctx.global.root);
    process.stdout.write(JSON.stringify(stateOf(store, store.load(args.operands[0]!)), null, 2) + '\n');
    return 0;
  },
};
