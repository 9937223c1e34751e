/**
 * The daemon's wire protocol: one unix socket per run dir, one request per connection.
 *
 * Both directions are newline-delimited JSON. The client's first line is a DaemonRequest; the
 * daemon answers with DaemonMessages and ends with exactly one final message (`exit`, `error`,
 * `started` or `status`), then closes. An attached `run` may send more lines after the first
 * (`stop`, when the user presses Ctrl-C).
 *
 * Every request carries the client's MinipodPaths: one daemon serves one set of directories,
 * and a client with other settings for the same run dir is refused rather than served with the
 * daemon's.
 */
import fs from 'node:fs';
import type { Socket } from 'node:net';
import type { ManifestSource } from '../manifest/bundle.js';
import type { PodSpec } from '../manifest/types.js';
import type { MinipodPaths } from '../paths.js';

export const PROTOCOL_VERSION = 1;

export interface CodeIdentity {
  file: string;
  size: number;
  mtimeMs: number;
}

/** A code file's size and mtime: the daemon records its own, a client sees it changed (an upgrade). */
export function codeIdentity(file: string): CodeIdentity | undefined {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st && { file, size: st.size, mtimeMs: st.mtimeMs };
}

interface RequestBase {
  version: number;
  paths: MinipodPaths;
}

export type DaemonRequest = RequestBase &
  (
    | {
        op: 'run';
        /** Manifest files read by the client: each path as typed (for messages), its absolute path, its text. */
        manifests?: ManifestSource[];
        /** An already validated spec (`restart` re-runs the saved one) and where it came from. */
        spec?: PodSpec;
        manifestPath?: string;
        detach: boolean;
        /** Whether the client prints trace lines (MINIPOD_TRACE=1): the daemon sends its steps. */
        trace?: boolean;
      }
    | { op: 'stop'; pod: string; graceSeconds?: number }
    /**
     * `rm [-f]` of pods this daemon runs: stop (no grace), tear down, remove record and logs.
     * Answered `daemon.unknown-pod`, with nothing done, unless it runs every one of them.
     */
    | { op: 'remove'; pods: string[]; force: boolean }
    | { op: 'status' }
    | { op: 'shutdown' }
    /** `daemon restart`: let go of every pod (the next daemon adopts them) and exit, touching none. */
    | { op: 'handover' }
    /** Answers once the daemon has nothing running in the background (benchmarks, tests). */
    | { op: 'settle' }
  );

/** Lines sent by an attached client after its `run` request. */
export type AttachedClientMessage = { op: 'stop'; signalExit: number; signal: string };

export interface DaemonStatus {
  pid: number;
  pods: string[];
  /** helpers: every waiting Node process (a pooled conmon's create and helper count two); conmons: pooled conmons. */
  warm: { sandboxes: number; helpers: number; conmons?: number };
  memory: { rss: number; heapUsed: number };
  uptimeSeconds: number;
}

export type DaemonMessage =
  /** Text for the client's stdout or stderr (container lines are already prefixed). */
  | { t: 'out'; s: 'stdout' | 'stderr'; x: string }
  /** The pod's name, once the manifest is parsed (for the client's own messages). */
  | { t: 'pod'; name: string }
  /** A start-path step, ms since the daemon read the request. */
  | { t: 'trace'; ms: number; step: string }
  // ---- final ----
  | { t: 'exit'; code: number }
  /** code 'host': a HostError, with `hint` (what to check on the host). */
  | { t: 'error'; message: string; exitCode: number; code?: string; hint?: string }
  /** Detached start done; `failed` names a container that could not start; `more` names the pods started after the first. */
  | { t: 'started'; name: string; failed?: { name: string; message: string; exitCode: number }; more?: string[] }
  | { t: 'status'; status: DaemonStatus };

export function isFinal(m: DaemonMessage): boolean {
  return m.t === 'exit' || m.t === 'error' || m.t === 'started' || m.t === 'status';
}

/** Calls `onLine` with each complete line read from `socket`; JSON that does not parse ends the connection. */
export function readJsonLines<T>(socket: Socket, onLine: (value: T) => void): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      let value: T;
      try {
        value = JSON.parse(line) as T;
      } catch {
        socket.destroy();
        return;
      }
      onLine(value);
    }
    // A peer that never ends a line cannot make us buffer without bound.
    if (buf.length > 4 * 1024 * 1024) socket.destroy();
  });
}

export function writeJsonLine(socket: Socket, value: unknown): void {
  if (socket.destroyed || !socket.writable) return;
  socket.write(`${JSON.stringify(value)}\n`);
}
