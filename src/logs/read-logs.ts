/**
 * Reading CRI log files back for `minipod logs`: partial records joined into lines, filters
 * (since, tail), several containers merged by time.
 */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { type LogStream, parseCriLine } from './cri-log.js';

export interface LogLine {
  container: string;
  time: string;
  stream: LogStream;
  text: string;
}

/** Joins `P` records onto the `F` record that completes them, per stream. */
export function parseLogText(container: string, text: string, flushPartial = false): LogLine[] {
  const out: LogLine[] = [];
  const partial: Record<LogStream, { time: string; text: string } | undefined> = { stdout: undefined, stderr: undefined };
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const rec = parseCriLine(raw);
    if (!rec) continue;
    const pending = partial[rec.stream];
    const joined = (pending?.text ?? '') + rec.text;
    const time = pending?.time ?? rec.time;
    if (rec.full) {
      out.push({ container, time, stream: rec.stream, text: joined });
      partial[rec.stream] = undefined;
    } else {
      partial[rec.stream] = { time, text: joined };
    }
  }
  // conmon ends output without a newline with a `P` record no `F` follows: still a line.
  if (flushPartial) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = partial[stream];
      if (p) out.push({ container, time: p.time, stream, text: p.text });
    }
  }
  return out;
}

/** `--since`: an RFC 3339 time, or a duration before now such as 30s, 5m, 2h. */
export function parseSince(since: string, now = Date.now()): string {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(since);
  if (m) {
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    return new Date(now - Number(m[1]) * factor).toISOString();
  }
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw new UserError(`--since: "${since}" is neither a time (RFC 3339) nor a duration like 10s, 5m, 1h`);
  return new Date(t).toISOString();
}

/** Compares RFC 3339 UTC times with any number of fraction digits. */
export function timeKey(time: string): string {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(time);
  if (!m) return time;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
}

export interface LogFilter {
  since?: string;
  tail?: number;
}

export function filterLines(lines: LogLine[], f: LogFilter): LogLine[] {
  let out = lines;
  if (f.since) {
    const key = timeKey(f.since);
    out = out.filter((l) => timeKey(l.time) >= key);
  }
  if (f.tail !== undefined) out = f.tail === 0 ? [] : out.slice(-f.tail);
  return out;
}

/** Merges per-container lists by time, stable within each container. */
export function mergeByTime(lists: LogLine[][]): LogLine[] {
  return lists
    .flatMap((list, li) => list.map((l, i) => ({ l, li, i })))
    .sort((a, b) => {
      const ka = timeKey(a.l.time);
      const kb = timeKey(b.l.time);
      return ka < kb ? -1 : ka > kb ? 1 : a.li - b.li || a.i - b.i;
    })
    .map((x) => x.l);
}

export function readLogFile(container: string, file: string): LogLine[] {
  try {
    return parseLogText(container, fs.readFileSync(file, 'utf8'), true);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
