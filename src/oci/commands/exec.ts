/**
 * `exec [flags] ID [COMMAND [ARG...]]` (runc's exec.go): a new process in a running container,
 * in all its namespaces and cgroups, with the container's seccomp filter. Flags after the id
 * belong to the command. Not detached, exec's exit code is the process's; with `--detach` it
 * returns once the process runs, having written `--pid-file` (conmon, a subreaper, waits for
 * the process, our child until we exit).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { hostSyscall } from '../../syscall/linux.js';
import { boolFlag, intFlag, stringFlag, stringsFlag } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { dropUnraisableAmbient, execProcessFromFlags, execProcessFromJson } from '../client/exec-process.js';
import { runOciExec } from '../client/exec-run.js';
import { cgroupProcsFiles, loadTarget, notRunning } from '../client/target.js';
import { compileOciSeccomp } from '../executor/seccomp.js';

function readConfig(bundle: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${bundle}/config.json: ${(err as Error).message}`);
  }
}

export const execCommand: OciCommand = {
  flags: [
    { name: 'console-socket', kind: 'string' },
    { name: 'pidfd-socket', kind: 'string' },
    { name: 'cwd', kind: 'string' },
    { name: 'env', alias: 'e', kind: 'strings' },
    { name: 'tty', alias: 't', kind: 'bool' },
    { name: 'user', alias: 'u', kind: 'string' },
    { name: 'additional-gids', alias: 'g', kind: 'strings' },
    { name: 'process', alias: 'p', kind: 'string' },
    { name: 'detach', alias: 'd', kind: 'bool' },
    { name: 'pid-file', kind: 'string' },
    { name: 'process-label', kind: 'string' },
    { name: 'apparmor', kind: 'string' },
    { name: 'no-new-privs', kind: 'bool' },
    { name: 'cap', alias: 'c', kind: 'strings' },
    { name: 'preserve-fds', kind: 'string' },
    { name: 'cgroup', kind: 'strings' },
    { name: 'ignore-paused', kind: 'bool' },
  ],
  stopAtFirstOperand: true,
  async run(ctx, args) {
    const id = args.operands[0];
    if (id === undefined) throw new UserError('"exec" requires a minimum of 1 argument(s)');
    for (const flag of ['pidfd-socket', 'cgroup']) {
      if (args.flags.has(flag)) throw new UserError(`--${flag}: not supported by minipod-oci`);
    }
    const { record, status } = loadTarget(ctx.global.root, id);
    if (status === 'stopped') throw new UserError('cannot exec in a stopped container: container not running', { code: 'oci.not-running' });
    if (status === 'paused' && !boolFlag(args, 'ignore-paused'))
      throw new UserError('cannot exec in a paused container (use --ignore-paused to override)');
    if (status === 'creating') throw notRunning();

    const config = readConfig(record.bundle);
    const processFile = stringFlag(args, 'process');
    const translated = processFile
      ? execProcessFromJson(fs.readFileSync(processFile, 'utf8'), processFile)
      : execProcessFromFlags(config.process, {
          args: args.operands.slice(1),
          env: stringsFlag(args, 'env'),
          cwd: stringFlag(args, 'cwd'),
          user: stringFlag(args, 'user'),
          additionalGids: stringsFlag(args, 'additional-gids'),
          caps: stringsFlag(args, 'cap'),
          noNewPrivs: boolFlag(args, 'no-new-privs'),
          tty: boolFlag(args, 'tty'),
          apparmor: stringFlag(args, 'apparmor'),
          processLabel: stringFlag(args, 'process-label'),
        });
    const spec = translated.spec;
    const warning = dropUnraisableAmbient(spec);
    // Debug only: exec's stderr is often the process's own stream (conmon's exec sessions).
    if (warning) ctx.log.write('debug', warning);
    // The container's seccomp filter holds for every process in it (runc's setns process).
    const linux = config.linux as Record<string, unknown> | undefined;
    if (linux?.seccomp !== undefined && linux.seccomp !== null) spec.seccomp = compileOciSeccomp(linux.seccomp, spec.capabilities.bounding);
    const tty = translated.terminal || boolFlag(args, 'tty');
    const size = translated.consoleSize;
    return runOciExec(hostSyscall(), {
      id,
      initPid: record.pid,
      cgroupProcs: cgroupProcsFiles(record),
      process: spec,
      tty,
      consoleSize: size ? { rows: size.height, cols: size.width } : undefined,
      consoleSocket: stringFlag(args, 'console-socket'),
      detach: boolFlag(args, 'detach'),
      pidFile: stringFlag(args, 'pid-file'),
      preserveFds: intFlag(args, 'preserve-fds', 0),
    });
  },
};
