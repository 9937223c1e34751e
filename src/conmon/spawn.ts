/**
 * Starting a conmon and hearing from it: spawn it with the sync pipe on fd 3, let its first
 * process exit (conmon double-forks: the one that stays is not our child, so the daemon can
 * die without taking it along), then read the container's pid, or the runtime's error, from
 * the sync pipe. conmon's own pid comes from its pid file.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { HostError } from '../errors.js';
import { conmonCommand, type ConmonRequest, parseSyncMessage } from './args.js';

/** Debian's conmon (podman's); MINIPOD_CONMON overrides. */
export function conmonBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINIPOD_CONMON ?? '/usr/bin/conmon';
}

/** The container's create failed: the runtime's message, as conmon relayed it. */
export class ContainerCreateFailed extends Error {
  /** podman's codes: 127 a command not found, 126 one that cannot run, 125 anything else. */
  get exitCode(): number {
    if (/not found|no such file/i.test(this.message)) return 127;
    return /permission denied|cannot execute/i.test(this.message) ? 126 : 125;
  }
}

export interface StartedConmon {
  conmonPid: number;
  /** The container's init (blocked until the runtime's `start`). */
  pid: number;
}

/** Runs conmon for one container and resolves once the runtime's `create` returned. */
export async function startConmon(request: Omit<ConmonRequest, 'syncFd'>, options: { timeoutMs?: number } = {}): Promise<StartedConmon> {
  const cmd = conmonCommand({ ...request, syncFd: 3 });
  fs.rmSync(cmd.containerPidFile, { force: true });
  const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'] as StdioOptions,
    detached: true,
    // The runtime (a Node script) finds node through PATH; nothing else of ours leaks to it.
    env: { PATH: `${path.dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`, ...cmd.env },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr?.on('error', () => {});
  const sync = child.stdio[3] as Readable;
  try {
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('error', (err) =>
        reject(new HostError(`start conmon (${cmd.argv[0]}): ${err.message}`, { hint: 'apt-get install conmon' })),
      );
      child.once('spawn', () => resolve());
    });
    await spawned;
    const line = await firstLine(sync, options.timeoutMs ?? 60_000, () => child.kill('SIGKILL'));
    if (line === undefined) {
      throw new HostError(`conmon for container ${request.name} exited without a word${stderr ? `: ${stderr.trim()}` : ''}`);
    }
    const msg = parseSyncMessage(line);
    if ('error' in msg) throw new ContainerCreateFailed(msg.error);
    const conmonPid = Number(fs.readFileSync(cmd.conmonPidFile, 'utf8').trim());
    return { conmonPid, pid: msg.pid };
  } finally {
    // conmon writes nothing more on it for a container (only for exec): our end goes.
    sync.destroy();
    child.stderr?.destroy();
  }
}

/** The first line on a stream, or undefined at its end; `onTimeout` runs before it rejects. */
function firstLine(stream: Readable, timeoutMs: number, onTimeout: () => void): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      onTimeout();
      reject(new HostError(`conmon did not report the container within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    const done = (v: string | undefined): void => {
      clearTimeout(timer);
      stream.removeAllListeners('data');
      resolve(v);
    };
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
    });
    stream.once('end', () => done(buf.trim() === '' ? undefined : buf));
    stream.once('close', () => done(buf.trim() === '' ? undefined : buf));
    stream.on('error', () => done(undefined));
  });
}
