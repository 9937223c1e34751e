/** `minipod daemon run|stop|status`: the daemon that supervises every pod (src/daemon). */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { callDaemon, connectDaemon, daemonPid, sendRequest, throwIfError, waitGone } from '../daemon/client.js';
import { daemonFiles, minipodPaths } from '../paths.js';
import { pidExists } from '../state/pod-state.js';
import { requireRoot } from './common.js';

export interface DaemonRunOptions {
  idle?: string;
  warm?: string;
  readyFd?: string;
}

function count(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag}: "${value}" is not a whole number`);
  return n;
}

export async function daemonRunCommand(o: DaemonRunOptions): Promise<number> {
  requireRoot();
  const idleSeconds = count(o.idle ?? process.env.MINIPOD_DAEMON_IDLE, 60, '--idle');
  const warm = count(o.warm ?? process.env.MINIPOD_WARM_SANDBOXES, 1, '--warm');
  const readyFd = o.readyFd === undefined ? undefined : count(o.readyFd, 0, '--ready-fd');
  const { runDaemonProcess } = await import('../daemon/main.js');
  return runDaemonProcess({ idleMs: idleSeconds * 1000, warmSandboxes: warm, readyFd });
}

export async function daemonStopCommand(): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  let pid: number | undefined;
  try {
    pid = Number(fs.readFileSync(daemonFiles(paths).pid, 'utf8').trim()) || undefined;
  } catch {
    // No pid file: not running, or not yet listening.
  }
  const answer = await callDaemon(paths, { op: 'shutdown' });
  if (!answer) {
    process.stdout.write('minipod daemon is not running\n');
    return 0;
  }
  throwIfError(answer);
  // It answers before it stops its pods: wait until it is gone, so the caller can count on it.
  const deadline = Date.now() + 120_000;
  while (pid !== undefined && pidExists(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  process.stdout.write('minipod daemon stopped\n');
  return 0;
}

/**
 * `minipod daemon restart`: the running daemon lets go of its pods and exits (nothing is
 * stopped: conmon holds the containers), and a new one, with the code installed now, adopts
 * them. Without a running daemon it starts one (which adopts any orphaned pods).
 */
export async function daemonRestartCommand(): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  const oldPid = daemonPid(paths);
  const answer = await callDaemon(paths, { op: 'handover' });
  if (answer) {
    throwIfError(answer);
    // Its lock goes with it: the next daemon cannot start before.
    await waitGone(oldPid);
  }
  const socket = await connectDaemon(paths, true);
  if (!socket) throw new Error('the minipod daemon did not start');
  const status = await sendRequest(socket, paths, { op: 'status' }).result;
  throwIfError(status);
  if (status.t !== 'status') throw new Error('unexpected answer from the daemon');
  const pods = status.status.pods;
  process.stdout.write(`minipod daemon restarted (pid ${status.status.pid}); pods: ${pods.length ? pods.join(', ') : 'none'}\n`);
  return 0;
}

export async function daemonStatusCommand(o: { format?: string }): Promise<number> {
  requireRoot();
  const answer = await callDaemon(minipodPaths(), { op: 'status' });
  if (!answer) {
    if (o.format === 'json') process.stdout.write('{"running":false}\n');
    else process.stdout.write('minipod daemon is not running\n');
    return 0;
  }
  throwIfError(answer);
  if (answer.t !== 'status') throw new Error('unexpected answer from the daemon');
  const s = answer.status;
  if (o.format === 'json') {
    process.stdout.write(`${JSON.stringify({ running: true, ...s })}\n`);
    return 0;
  }
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
  process.stdout.write(
    [
      `pid:          ${s.pid}`,
      `uptime:       ${s.uptimeSeconds}s`,
      `pods:         ${s.pods.length}${s.pods.length ? ` (${s.pods.join(', ')})` : ''}`,
      `warm pool:    ${s.warm.sandboxes} sandboxes, ${s.warm.helpers} booted helpers${s.warm.conmons ? `, ${s.warm.conmons} pooled conmons` : ''}`,
      `memory (RSS): ${mb(s.memory.rss)} (JS heap ${mb(s.memory.heapUsed)})`,
    ].join('\n') + '\n',
  );
  return 0;
}

/** `minipod daemon settle`: waits until the daemon's pool is booted (benchmarks, tests). */
export async function daemonSettleCommand(): Promise<number> {
  requireRoot();
  const answer = await callDaemon(minipodPaths(), { op: 'settle' });
  if (answer) throwIfError(answer);
  return 0;
}
