/**
 * `run [--bundle B] [--pid-file F] [--detach] [--keep] ID`: create, start, and (unless
 * detached) wait for the init, which is our child, forwarding signals to it; then delete
 * (unless --keep). Exits with the container's status, 128+N for a signal.
 */
import { boolFlag, intFlag, requireOperands, stringFlag } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { createContainer, detachInit } from '../executor/create.js';
import { StateStore } from '../state/store.js';
import { CREATE_FLAGS } from './create.js';
import { destroyContainer } from './delete.js';
import { startCommand } from './start.js';
import os from 'node:os';
import { hostSyscall } from '../../syscall/linux.js';
import type { Syscall } from '../../syscall/syscall.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** Polls for the exit of an inherited orphan (libuv reaps only the children it spawned). */
function reapOrphan(sys: Syscall, pid: number, intervalMs = 20): Promise<number> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      let status;
      try {
        status = sys.reapExited(pid);
      } catch {
        status = { code: 255, signal: null }; // ECHILD: reaped elsewhere, its status is lost.
      }
      if (!status) return;
      clearInterval(timer);
      resolve(status.code ?? 128 + (status.signal ?? 0));
    }, intervalMs);
  });
}

export const runCommand: OciCommand = {
  flags: CREATE_FLAGS,
  async run(ctx, args) {
    requireOperands(args, 'run', 1);
    const id = args.operands[0]!;
    const store = new StateStore(ctx.global.root);
    // An init forked by util-linux (a new user namespace with a new pid namespace) is not our
    // child: as a subreaper we inherit it, and reap it below.
    const sys = hostSyscall();
    sys.setChildSubreaper();
    const { helper, record } = await createContainer(store, {
      id,
      bundle: stringFlag(args, 'bundle') ?? process.cwd(),
      pidFile: stringFlag(args, 'pid-file'),
      consoleSocket: stringFlag(args, 'console-socket'),
      preserveFds: intFlag(args, 'preserve-fds', 0),
      warn: (m) => ctx.log.write('warning', m),
    });
    // Our child: its exit event is listened for before start, so it cannot be missed. An
    // orphan stays a zombie until reaped, so polling for it can wait for --detach's answer.
    const childExit =
      helper.pid === helper.child.pid
        ? new Promise<number>((resolve) => {
            helper.child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
          })
        : undefined;
    const forward = (signal: NodeJS.Signals): void => {
      try {
        process.kill(record.pid, signal);
      } catch {
        // Gone.
      }
    };
    try {
      await startCommand.run(ctx, { flags: new Map(), operands: [id] });
    } catch (err) {
      await destroyContainer(store, record, ctx.log);
      throw err;
    }
    if (boolFlag(args, 'detach')) {
      detachInit(helper);
      return 0;
    }
    for (const s of FORWARDED) process.on(s, forward);
    // A failure after start (startContainer hook, execve) arrives on the control socket.
    void helper.closed.then((failure) => {
      if (failure) process.stderr.write(`minipod-oci: ${failure.message}\n`);
    });
    const status = await (childExit ?? reapOrphan(sys, helper.pid));
    helper.control.destroy();
    for (const s of FORWARDED) process.off(s, forward);
    if (!boolFlag(args, 'keep')) await destroyContainer(store, record, ctx.log);
    return status;
  },
};
