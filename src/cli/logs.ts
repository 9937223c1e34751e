/** `minipod logs`: container output from the CRI log files, optionally followed. */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { type LogLine, filterLines, mergeByTime, parseLogText, parseSince, readLogFile } from '../logs/read-logs.js';
import { containerLayout, minipodPaths, podLayout } from '../paths.js';
import { isTerminalPhase, readPodState, requirePodState } from '../state/pod-state.js';
import { requireRoot } from './common.js';

export interface LogsOptions {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  previous?: boolean;
}

function printer(prefixWidth: number, timestamps: boolean) {
  return (l: LogLine): void => {
    const out = l.stream === 'stdout' ? process.stdout : process.stderr;
    const prefix = prefixWidth > 0 ? `${l.container.padEnd(prefixWidth)} | ` : '';
    out.write(`${prefix}${timestamps ? `${l.time} ` : ''}${l.text}\n`);
  };
}

/** Follows a growing file from an offset; reopens from the start when a restart replaced it. */
class FileFollower {
  private offset: number;
  private ino: number | undefined;
  private pending = '';
  constructor(
    private readonly container: string,
    private readonly file: string,
  ) {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    this.offset = st?.size ?? 0;
    this.ino = st?.ino;
  }
  poll(): LogLine[] {
    const st = fs.statSync(this.file, { throwIfNoEntry: false });
    if (!st) return [];
    if (st.ino !== this.ino) {
      this.ino = st.ino;
      this.offset = 0;
      this.pending = '';
    }
    if (st.size <= this.offset) return [];
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(st.size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.pending + buf.subarray(0, n).toString('utf8');
      const cut = text.lastIndexOf('\n') + 1;
      this.pending = text.slice(cut);
      return parseLogText(this.container, text.slice(0, cut));
    } finally {
      fs.closeSync(fd);
    }
  }
}

export async function logsCommand(pod: string, container: string | undefined, o: LogsOptions): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  const state = requirePodState(paths, pod);
  const names = state.containers.map((c) => c.name).filter((n) => !container || n === container);
  if (container && names.length === 0) {
    throw new UserError(`pod "${pod}" has no container "${container}"`, { code: 'container.not-found' });
  }
  const tail = o.tail === undefined || o.tail === '-1' ? undefined : Number(o.tail);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UserError(`--tail: "${o.tail}" is not a number of lines`);
  const since = o.since ? parseSince(o.since) : undefined;
  const layout = podLayout(paths, pod);
  const fileOf = (n: string): string => {
    const files = containerLayout(layout, n);
    return o.previous ? files.previousLogPath : files.logPath;
  };
  if (o.previous && container && !fs.existsSync(fileOf(container))) {
    throw new UserError(`container "${container}" of pod "${pod}" has not been restarted: no previous logs`);
  }
  const print = printer(names.length > 1 ? Math.max(...names.map((n) => n.length)) : 0, o.timestamps ?? false);
  const lists = names.map((n) => filterLines(readLogFile(n, fileOf(n)), { since, tail }));
  for (const l of mergeByTime(lists)) print(l);
  if (!o.follow || o.previous) return 0;

  const followers = names.map((n) => new FileFollower(n, fileOf(n)));
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  process.once('SIGTERM', () => (stop = true));
  for (;;) {
    const batch = mergeByTime(followers.map((f) => f.poll()));
    for (const l of batch) print(l);
    if (stop) return 0;
    const now = readPodState(paths, pod);
    if (!now || isTerminalPhase(now.phase)) {
      // One last read for lines written just before the pod ended.
      for (const l of mergeByTime(followers.map((f) => f.poll()))) print(l);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
