/**
 * The subcommands that act on a container from outside its life cycle: exec, ps, pause,
 * resume, update (runc's names and flags). Same shape as core-commands.ts.
 */
import { UserError } from '../../errors.js';
import type { CommandEntry, CommandTable } from './command.js';

function notYet(name: string, summary: string): CommandEntry {
  return {
    summary,
    load: () =>
      Promise.resolve({
        flags: [],
        run: () => {
          throw new UserError(`${name}: not implemented by minipod-oci yet`);
        },
      }),
  };
}

export const CLIENT_COMMANDS: CommandTable = {
  exec: notYet('exec', 'run a process in a running container'),
  ps: notYet('ps', 'list the processes of a container'),
  pause: notYet('pause', "freeze a container's processes"),
  resume: notYet('resume', "thaw a paused container's processes"),
  update: notYet('update', "change a container's resource limits"),
};
