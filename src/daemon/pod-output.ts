/** Where a pod's output goes: an attached `run`'s socket, or a detached pod's events file. */
import fs from 'node:fs';
import type net from 'node:net';
import { type MinipodPaths, podLayout } from '../paths.js';
import type { PodSpec } from '../manifest/types.js';
import type { SupervisorOutput } from '../pod/supervisor.js';
import { writeJsonLine } from './protocol.js';

/** Output queued for an attached client beyond this is dropped (the logs keep every line). */
const ATTACHED_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * `web | line` with names padded to one width, like compose, so columns line up. A client that
 * stops reading (a paused terminal) must not make the daemon buffer without bound: past the
 * backlog, lines are counted instead of queued, and the client is told how many it missed.
 */
export function attachedOutput(conn: net.Socket, spec: PodSpec): SupervisorOutput {
  const names = [...spec.initContainers, ...spec.containers].map((c) => c.name);
  const width = Math.max(...names.map((n) => n.length));
  let dropped = 0;
  const send = (s: 'stdout' | 'stderr', x: string): void => {
    if (conn.writableLength > ATTACHED_BACKLOG_BYTES) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      writeJsonLine(conn, {
        t: 'out',
        s: 'stderr',
        x: `minipod: ${dropped} lines not shown (the reader was too slow); \`minipod logs ${spec.name}\` has them\n`,
      });
      dropped = 0;
    }
    writeJsonLine(conn, { t: 'out', s, x });
  };
  return {
    line: (container, stream, text) => send(stream, `${container.padEnd(width)} | ${text}\n`),
    event: (message) => send('stderr', `minipod: ${message}\n`),
  };
}

/** Detached pods have no terminal: minipod's messages go to the pod's events file. */
export function detachedOutput(paths: MinipodPaths, spec: PodSpec): SupervisorOutput {
  const layout = podLayout(paths, spec.name);
  return {
    line: () => {},
    event: (message) => {
      try {
        fs.mkdirSync(layout.logDir, { recursive: true });
        fs.appendFileSync(layout.eventsFile, `${new Date().toISOString()} ${message}\n`);
      } catch {
        // Nowhere left to say it.
      }
    },
  };
}
