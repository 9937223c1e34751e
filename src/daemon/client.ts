/**
 * The CLI's side of the daemon protocol: connect (starting the daemon when asked and none
 * runs), send one request, hand each message to the caller, return the final one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ExitCode, UserError, HostError } from '../errors.js';
import { daemonFiles, type MinipodPaths } from '../paths.js';
import {
  codeIdentity,
  type CodeIdentity,
  type DaemonMessage,
  type DaemonRequest,
  isFinal,
  PROTOCOL_VERSION,
  readJsonLines,
  writeJsonLine,
} from './protocol.js';

type RequestBody = DaemonRequest extends infer R ? (R extends unknown ? Omit<R, 'version' | 'paths'> : never) : never;

function connect(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/** ENOENT: no daemon ever listened; ECONNREFUSED: a dead one left its socket file. */
function noDaemon(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/** Starts `minipod daemon run` in its own session and waits until it listens. */
async function startDaemon(paths: MinipodPaths): Promise<void> {
  fs.mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
  const log = fs.openSync(daemonFiles(paths).log, 'a', 0o600);
  const child = spawn(process.execPath, [process.argv[1]!, 'daemon', 'run', '--ready-fd', '3'], {
    detached: true,
    stdio: ['ignore', log, log, 'pipe'],
    env: process.env,
    // Not the caller's directory: a daemon holding it would keep it from being unmounted.
    cwd: '/',
  });
  fs.closeSync(log);
  const ready = child.stdio[3] as Readable;
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    ready.on('data', (d: Buffer) => (buf += d.toString()));
    ready.on('close', () => resolve(buf.trim()));
  });
  child.unref();
  if (!line) throw new HostError('the minipod daemon exited before it listened', { hint: daemonFiles(paths).log });
  const msg = JSON.parse(line) as { ok?: true; busy?: true; error?: string };
  if (msg.error) throw new HostError(`the minipod daemon could not start: ${msg.error}`, { hint: daemonFiles(paths).log });
  // `busy`: another client started one at the same moment; it listens shortly.
}

/** A connection to the daemon of `paths.runDir`; undefined when none runs and `start` is false. */
export async function connectDaemon(paths: MinipodPaths, start: boolean): Promise<Socket | undefined> {
  const socketPath = daemonFiles(paths).socket;
  try {
    const socket = await connect(socketPath);
    if (!codeChanged(paths)) return socket;
    // Installed code changed under the running daemon: it hands its pods to a new one first.
    const pid = daemonPid(paths);
    if (!(await handOver(paths, socket))) return await connect(socketPath);
    await waitGone(pid);
    start = true;
  } catch (err) {
    if (!noDaemon(err)) throw err;
    if (!start) return undefined;
  }
  await startDaemon(paths);
  // A daemon that lost the start race to another, or one shutting down as we came: retry briefly.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await connect(socketPath);
    } catch (err) {
      if (!noDaemon(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
      if (!fs.existsSync(socketPath)) await startDaemon(paths);
    }
  }
}

/** Whether the file the running daemon's code came from changed since it started. */
function codeChanged(paths: MinipodPaths): boolean {
  try {
    const was = JSON.parse(fs.readFileSync(daemonFiles(paths).code, 'utf8')) as CodeIdentity;
    const now = codeIdentity(was.file);
    return !now || now.size !== was.size || now.mtimeMs !== was.mtimeMs;
  } catch {
    return false;
  }
}

/** Asks the daemon to hand its pods over (`daemon restart`); false when it refused (pods it cannot hand over). */
export async function handOver(paths: MinipodPaths, socket: Socket): Promise<boolean> {
  const answer = await sendRequest(socket, paths, { op: 'handover' }).result;
  return answer.t === 'exit';
}

/** The running daemon's pid, from its pid file. */
export function daemonPid(paths: MinipodPaths): number | undefined {
  try {
    return Number(fs.readFileSync(daemonFiles(paths).pid, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Waits until a daemon that answered handover has exited (its lock is free then). */
export async function waitGone(pid: number | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pid !== undefined && Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The answers made up here for a daemon that closed the connection without one. */
const goneAnswers = new WeakSet<DaemonMessage>();

/** Whether a call's answer says the daemon died before it answered (an attached run then says what became of its pod). */
export function daemonDied(answer: DaemonMessage): boolean {
  return goneAnswers.has(answer);
}

export interface DaemonCall {
  /** The connection, for attached clients that send more lines (Ctrl-C). */
  socket: Socket;
  /** Resolves with the final message; a connection lost before one is a host error (`daemonDied`). */
  result: Promise<DaemonMessage>;
}

/** Sends one request on a fresh connection; `onMessage` sees every non-final message. */
export function sendRequest(
  socket: Socket,
  paths: MinipodPaths,
  body: RequestBody,
  onMessage: (m: DaemonMessage) => void = () => {},
): DaemonCall {
  const result = new Promise<DaemonMessage>((resolve) => {
    let final: DaemonMessage | undefined;
    readJsonLines<DaemonMessage>(socket, (m) => {
      if (final) return;
      if (!isFinal(m)) {
        onMessage(m);
        return;
      }
      // The answer is complete: no need to wait for the daemon's side of the close.
      final = m;
      resolve(m);
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (final) return resolve(final);
      // The daemon died mid-request (a kill -9, an OOM kill, a crash): the host's state, not
      // a bug of ours to report as internal. Pods it held may go on (conmon holds them).
      const gone: DaemonMessage = {
        t: 'error',
        code: 'host',
        message: 'the minipod daemon exited before it answered (`minipod ps` shows what it had started)',
        hint: daemonFiles(paths).log,
        exitCode: ExitCode.runtime,
      };
      goneAnswers.add(gone);
      resolve(gone);
    });
  });
  writeJsonLine(socket, { ...body, version: PROTOCOL_VERSION, paths });
  return { socket, result };
}

/** Turns an `error` answer into the UserError or HostError it was in the daemon (or an internal error). */
export function throwIfError(m: DaemonMessage): void {
  if (m.t !== 'error') return;
  if (m.message.startsWith('internal error: ')) throw new Error(m.message.slice('internal error: '.length));
  if (m.code === 'host') throw new HostError(m.message, { hint: m.hint });
  throw new UserError(m.message, { exitCode: m.exitCode, code: m.code });
}

/** One request, one answer, for verbs that need a daemon only if one runs (stop, status). */
export async function callDaemon(
  paths: MinipodPaths,
  body: RequestBody,
  options: { start?: boolean } = {},
): Promise<DaemonMessage | undefined> {
  const socket = await connectDaemon(paths, options.start ?? false);
  if (!socket) return undefined;
  return sendRequest(socket, paths, body).result;
}
