/**
 * The subcommands that act on a container from outside its life cycle: exec, ps, pause,
 * resume, update (runc's names and flags; src/oci/client holds their logic). Same shape as
 * core-commands.ts: each module is loaded when its command runs.
 */
import { UserError } from '../../errors.js';
import type { CommandTable } from './command.js';

export const CLIENT_COMMANDS: CommandTable = {
  exec: { summary: 'run a process in a running container', load: async () => (await import('../commands/exec.js')).execCommand },
  ps: {
    summary: 'list the processes of a container (--format table|json)',
    load: async () => (await import('../commands/ps.js')).psCommand,
  },
  pause: { summary: "freeze a container's processes", load: async () => (await import('../commands/pause.js')).pauseCommand },
  resume: { summary: "thaw a paused container's processes", load: async () => (await import('../commands/pause.js')).resumeCommand },
  update: {
    summary: "change a container's resource limits (--resources FILE|-, or flags)",
    load: async () => (await import('../commands/update.js')).updateCommand,
  },
  events: {
    summary: 'not supported by minipod-oci',
    load: () =>
      Promise.resolve({
        flags: [
          { name: 'stats', kind: 'bool' },
          { name: 'interval', kind: 'string' },
        ],
        run: () => {
          throw new UserError('events: not supported by minipod-oci (containerd and podman watch exits and OOM kills themselves)');
        },
      }),
  },
};
