/**
 * The supervisor's side of the helper protocol (see helper-main.ts): spawn a helper, send it
 * a plan, learn whether its execve succeeded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import type { HelperFailure, HelperPlan } from '../plan/types.js';

const HELPER_SCRIPT = fileURLToPath(new URL('./helper-main.js', import.meta.url));

export class HelperFailed extends Error {
  override name = 'HelperFailed';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export interface Helper {
  child: ChildProcess;
  pid: number;
  control: Socket;
}

export interface SpawnHelperOptions {
  /** Give the container a stdin pipe (exec -i); otherwise /dev/null. */
  stdin?: boolean;
  /** Inherit the supervisor's stdio (exec -t passes a pty this way). */
  stdio?: 'pipe' | 'inherit';
}

/**
 * Spawns a helper. Synchronous on purpose: the caller may be inside spawnInNamespaces, and the
 * child is created before this returns. The helper gets its own session so a Ctrl-C on the
 * user's terminal reaches the supervisor, which stops containers in order, and not every
 * container at once.
 */
export function spawnHelper(options: SpawnHelperOptions = {}): Helper {
  const inherit = options.stdio === 'inherit';
  const child = spawn(process.execPath, [HELPER_SCRIPT], {
    stdio: [inherit ? 'inherit' : options.stdin ? 'pipe' : 'ignore', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe', 'pipe'],
    detached: !inherit,
    env: {},
  });
  if (child.pid === undefined) {
    throw new Error('could not start a helper process');
  }
  const control = child.stdio[3] as Socket;
  return { child, pid: child.pid, control };
}

/**
 * Sends the plan and resolves once the helper has exec'd (its control socket closed without a
 * message); rejects with HelperFailed carrying the helper's message and exit code.
 */
export function sendPlan(helper: Helper, plan: HelperPlan): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
    };
    const onEnd = (): void => {
      cleanup();
      const line = received.split('\n').find((l) => l.trim() !== '');
      if (!line) {
        resolve();
        return;
      }
      try {
        const failure = JSON.parse(line) as HelperFailure;
        reject(new HelperFailed(failure.message, failure.exitCode));
      } catch {
        reject(new HelperFailed(`helper sent garbage: ${line.slice(0, 200)}`, 125));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new HelperFailed(`helper control socket: ${err.message}`, 125));
    };
    const cleanup = (): void => {
      helper.control.off('data', onData);
      helper.control.off('end', onEnd);
      helper.control.off('close', onEnd);
      helper.control.off('error', onError);
    };
    helper.control.on('data', onData);
    helper.control.once('end', onEnd);
    helper.control.once('close', onEnd);
    helper.control.once('error', onError);
    helper.control.write(JSON.stringify(plan) + '\n');
  });
}
