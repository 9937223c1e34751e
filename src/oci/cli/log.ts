/**
 * runc's logging: `--log FILE` (default stderr) in `--log-format text` (logrus:
 * `time="…" level=error msg="…"`) or `json` (`{"level":"error","msg":"…","time":"…"}`, one per
 * line; containerd's shim reports the last error line of the file when a call fails).
 */
import fs from 'node:fs';

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface OciLog {
  write(level: Level, msg: string): void;
}

export function formatLogLine(format: 'text' | 'json', level: Level, msg: string, time: Date): string {
  const iso = time.toISOString();
  if (format === 'json') return JSON.stringify({ level, msg, time: iso }) + '\n';
  return `time="${iso}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

export function createLog(file: string | undefined, format: 'text' | 'json', debug: boolean): OciLog {
  return {
    write(level, msg) {
      if (level === 'debug' && !debug) return;
      const line = formatLogLine(format, level, msg, new Date());
      try {
        if (file) fs.appendFileSync(file, line);
        else if (level !== 'error') process.stderr.write(line); // Errors go to stderr once, by main.
      } catch {
        // A log we cannot write must not hide the error itself, which main prints.
      }
    },
  };
}
