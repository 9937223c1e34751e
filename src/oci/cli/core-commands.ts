/**
 * The life-cycle subcommands (oci-core). Each module is loaded only when its command runs, so
 * `start`, on every container's start path, loads the state store and little else.
 * client-commands.ts holds the others (exec, ps, pause, resume, update) in the same shape.
 */
import type { CommandTable } from './command.js';

export const CORE_COMMANDS: CommandTable = {
  create: {
    summary: 'create a container from a bundle; its init waits for start',
    load: async () => (await import('../commands/create.js')).createCommand,
  },
  start: { summary: 'start the program of a created container', load: async () => (await import('../commands/start.js')).startCommand },
  run: {
    summary: 'create and start a container, and wait for it (or --detach)',
    load: async () => (await import('../commands/run.js')).runCommand,
  },
  state: { summary: 'print the state of a container as JSON', load: async () => (await import('../commands/state.js')).stateCommand },
  kill: {
    summary: "send a signal (default SIGTERM) to the container's init, or --all its processes",
    load: async () => (await import('../commands/kill.js')).killCommand,
  },
  delete: {
    summary: 'delete a stopped container (--force: kill it first)',
    load: async () => (await import('../commands/delete.js')).deleteCommand,
  },
  list: { summary: 'list containers (--format table|json, -q)', load: async () => (await import('../commands/list.js')).listCommand },
  spec: { summary: 'write a default config.json', load: async () => (await import('../commands/spec.js')).specCommand },
  features: {
    summary: 'print what this runtime implements, as JSON',
    load: async () => (await import('../commands/features.js')).featuresCommand,
  },
};
