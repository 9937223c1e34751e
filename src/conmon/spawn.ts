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

/**
 * A conmon started and not yet heard from: its sync pipe is read from the start, so an early
 * word (the runtime's create failed) is kept until `result` asks. A pooled entry (the warm
 * pool's) waits here, maybe long, until its container is known.
 */
export interface PendingConmon {
  /** Where conmon writes its own pid (once it has double-forked). */
  conmonPidFile: string;
  /** Resolves when conmon has said something, or its sync pipe ended: `result` will not wait. */
  settled: Promise<void>;
  /** The container's pid once the runtime's create returned, or why not; a timeout throws. */
  result(timeoutMs?: number): Promise<StartedConmon>;
  /** Drops our end of the pipes (conmon writes nothing more on them for a container). */
  close(): void;
}

/** Spawns conmon for one container; the sync line is read as it comes (see PendingConmon). */
export function spawnConmon(request: Omit<ConmonRequest, 'syncFd'>): PendingConmon {
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
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new HostError(`start conmon (${cmd.argv[0]}): ${err.message}`, { hint: 'apt-get install conmon' })),
    );
    child.once('spawn', () => resolve());
  });
  spawned.catch(() => {});
  const line = firstLine(sync);
  const close = (): void => {
    sync.destroy();
    child.stderr?.destroy();
  };
  return {
    conmonPidFile: cmd.conmonPidFile,
    settled: Promise.race([
      line.then(() => {}),
      spawned.then(
        () => new Promise<void>(() => {}),
        () => {},
      ),
    ]),
    close,
    async result(timeoutMs = 60_000): Promise<StartedConmon> {
      try {
        await spawned;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new HostError(`conmon did not report the container within ${timeoutMs / 1000}s`));
          }, timeoutMs);
        });
        const got = await Promise.race([line, timeout]).finally(() => clearTimeout(timer));
        if (got === undefined) {
          throw new HostError(`conmon for container ${request.name} exited without a word${stderr ? `: ${stderr.trim()}` : ''}`);
        }
        const msg = parseSyncMessage(got);
        if ('error' in msg) throw new ContainerCreateFailed(msg.error);
        const conmonPid = Number(fs.readFileSync(cmd.conmonPidFile, 'utf8').trim());
        return { conmonPid, pid: msg.pid };
      } finally {
        close();
      }
    },
  };
}

/** Runs conmon for one container and resolves once the runtime's `create` returned. */
export function startConmon(request: Omit<ConmonRequest, 'syncFd'>, options: { timeoutMs?: number } = {}): Promise<StartedConmon> {
  return spawnConmon(request).result(options.timeoutMs);
}

/** The first line on a stream, or undefined at its end. */
function firstLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const finish = (v: string | undefined): void => {
      if (done) return;
      done = true;
      stream.removeAllListeners('data');
      resolve(v);
    };
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    });
    stream.once('end', () => finish(buf.trim() === '' ? undefined : buf));
    stream.once('close', () => finish(buf.trim() === '' ? undefined : buf));
    stream.on('error', () => finish(undefined));
  });
}
