/**
 * Finding the program to execve inside the container (after pivot_root), with the exit codes
 * docker and podman use: 127 when it is not there, 126 when it is there but cannot be run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, UserError } from '../errors.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function pathOf(env: string[]): string {
  const entry = env.find((e) => e.startsWith('PATH='));
  return entry ? entry.slice(5) : DEFAULT_PATH;
}

function isExecutableFile(file: string): boolean | 'not-executable' {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return 'not-executable';
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES') return 'not-executable';
    return false;
  }
}

export function lookupExecutable(argv0: string, env: string[]): string {
  if (argv0 === '') {
    throw new UserError('no command: the container has neither command nor an image entrypoint', { exitCode: ExitCode.notFound });
  }
  if (argv0.includes('/')) {
    const found = isExecutableFile(argv0);
    if (found === true) return argv0;
    if (found === 'not-executable') {
      throw new UserError(`exec ${argv0}: permission denied`, { exitCode: ExitCode.cannotExecute });
    }
    throw new UserError(`exec ${argv0}: no such file or directory`, { exitCode: ExitCode.notFound });
  }
  let denied = false;
  for (const dir of pathOf(env).split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, argv0);
    const found = isExecutableFile(candidate);
    if (found === true) return candidate;
    if (found === 'not-executable') denied = true;
  }
  if (denied) throw new UserError(`exec ${argv0}: permission denied`, { exitCode: ExitCode.cannotExecute });
  throw new UserError(`exec: "${argv0}": executable file not found in $PATH`, { exitCode: ExitCode.notFound });
}
