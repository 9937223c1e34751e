/**
 * Container output in the CRI log format kubelet and `crictl logs` read:
 *   2026-11-25T08:25:37.123456789Z stdout F the line
 * `F` marks a full line, `P` a partial one (a line longer than the buffer, or output that ends
 * without a newline when the stream closes is still written as F, as containerd does).
 */
import fs from 'node:fs';

export type LogStream = 'stdout' | 'stderr';

/** Lines longer than this are split into P records, bounding memory per container. */
const MAX_LINE = 16 * 1024;

const startNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** RFC 3339 with nanoseconds, UTC. Node's clock has ms precision; hrtime fills the rest. */
export function rfc3339Nano(nowNs: bigint = startNs + process.hrtime.bigint()): string {
  const ms = Number(nowNs / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-11-25T08:25:37.123Z
  const nanos = (nowNs % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

export function formatCriLine(time: string, stream: LogStream, full: boolean, text: string): string {
  return `${time} ${stream} ${full ? 'F' : 'P'} ${text}\n`;
}

export interface ParsedCriLine {
  time: string;
  stream: LogStream;
  full: boolean;
  text: string;
}

export function parseCriLine(line: string): ParsedCriLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/.exec(line);
  if (!m) return undefined;
  return { time: utcTime(m[1]!), stream: m[2] as LogStream, full: m[3] === 'F', text: m[4]! };
}

/**
 * conmon writes local time with an offset (`2026-12-01T09:33:50.379411924+00:00`), containerd
 * and minipod UTC (`...Z`): one form, UTC with the digits given, so times compare as text.
 */
export function utcTime(time: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d)$/.exec(time);
  if (!m) return time;
  const [, whole, fraction = '', offset] = m;
  if (offset === '+00:00' || offset === '-00:00') return `${whole}${fraction}Z`;
  const ms = Date.parse(`${whole}${offset}`);
  return Number.isNaN(ms) ? time : `${new Date(ms).toISOString().slice(0, 19)}${fraction}Z`;
}

/**
 * Joins partial (`P`) records onto the full one that ends them: raw CRI lines in, lines out;
 * `flush` gives what is left (conmon ends output without a newline with a `P` record).
 */
export function criLineJoiner(onLine: (stream: LogStream, text: string) => void): { push(raw: string): void; flush(): void } {
  const partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  return {
    push(raw) {
      const rec = parseCriLine(raw);
      if (!rec) return;
      if (!rec.full) {
        partial[rec.stream] += rec.text;
        return;
      }
      onLine(rec.stream, partial[rec.stream] + rec.text);
      partial[rec.stream] = '';
    },
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        if (partial[stream] !== '') onLine(stream, partial[stream]);
        partial[stream] = '';
      }
    },
  };
}

/** Splits a byte stream into lines and appends them to the log file; calls onLine for each. */
export class CriLogWriter {
  private readonly fd: number;
  private readonly pending: Record<LogStream, string> = { stdout: '', stderr: '' };

  constructor(
    file: string,
    private readonly onLine?: (stream: LogStream, text: string) => void,
  ) {
    this.fd = fs.openSync(file, 'a', 0o640);
  }

  write(stream: LogStream, chunk: Buffer | string): void {
    let data = this.pending[stream] + chunk.toString();
    let nl: number;
    while ((nl = data.indexOf('\n')) >= 0) {
      let line = data.slice(0, nl);
      while (line.length > MAX_LINE) {
        this.emit(stream, false, line.slice(0, MAX_LINE));
        line = line.slice(MAX_LINE);
      }
      this.emit(stream, true, line);
      data = data.slice(nl + 1);
    }
    while (data.length > MAX_LINE) {
      this.emit(stream, false, data.slice(0, MAX_LINE));
      data = data.slice(MAX_LINE);
    }
    this.pending[stream] = data;
  }

  /** Writes what is left of a stream that ended without a newline. */
  flush(stream: LogStream): void {
    if (this.pending[stream] !== '') {
      this.emit(stream, true, this.pending[stream]);
      this.pending[stream] = '';
    }
  }

  close(): void {
    this.flush('stdout');
    this.flush('stderr');
    fs.closeSync(this.fd);
  }

  private emit(stream: LogStream, full: boolean, text: string): void {
    fs.writeSync(this.fd, formatCriLine(rfc3339Nano(), stream, full, text));
    this.onLine?.(stream, text);
  }
}
