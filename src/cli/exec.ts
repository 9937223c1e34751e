/** `minipod exec [-i] [-t] [-e K=V]... [-u UID[:GID]] [-w DIR] POD CONTAINER -- CMD...` */
import { execInContainer } from '../exec/exec.js';
import { parseEnvFlags, parseUserFlag } from '../plan/exec.js';
import { relayTerminal, terminalSize } from '../exec/relay.js';
import { UserError } from '../errors.js';
import { minipodPaths } from '../paths.js';
import { LinuxSyscall } from '../syscall/linux.js';
import { requireRoot } from './common.js';

export interface ExecCommandOptions {
  interactive: boolean;
  tty: boolean;
  env: string[];
  user?: string;
  workdir?: string;
}

/** Signals we pass on to the exec'd process instead of dying of them (podman's sig-proxy). */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export async function execCommand(pod: string, container: string, argv: string[], options: ExecCommandOptions): Promise<number> {
  requireRoot();
  const where = `exec ${pod}/${container}`;
  if (argv.length === 0)
    throw new UserError(`${where}: no command given (minipod exec POD CONTAINER -- CMD...)`, { code: 'exec.no-command' });
  if (options.workdir !== undefined && !options.workdir.startsWith('/')) {
    throw new UserError(`${where}: workdir "${options.workdir}" must be an absolute path`, { code: 'exec.bad-workdir' });
  }
  const proc = await execInContainer({
    paths: minipodPaths(),
    sys: new LinuxSyscall(),
    pod,
    container,
    argv,
    env: parseEnvFlags(options.env, where),
    user: options.user === undefined ? undefined : parseUserFlag(options.user, where),
    cwd: options.workdir,
    stdio: 'inherit',
    stdin: options.interactive,
    tty: options.tty,
    // A 0x0 terminal confuses full-screen programs and `stty size`: 80x24 when we cannot know.
    windowSize: options.tty ? (terminalSize(process.stdout) ?? terminalSize(process.stdin) ?? { rows: 24, cols: 80 }) : undefined,
  });
  const forward = (signal: NodeJS.Signals): void => proc.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    if (proc.master === undefined) return await proc.exited;
    return await relayTerminal({
      master: proc.master,
      input: options.interactive ? process.stdin : undefined,
      output: process.stdout,
      exited: proc.exited,
    });
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
