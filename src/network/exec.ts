/**
 * Runs a helper program (CNI plugin, ip, iptables, nsenter) with a timeout. We never go through
 * a shell: arguments come from manifests and config files.
 */
import { spawn } from 'node:child_process';
import { HostError } from '../errors.js';

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** PATH for helpers: iptables and ip live in sbin, which a sudo environment may lack. */
export const HELPER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function run(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? { ...process.env, PATH: `${process.env.PATH ?? ''}:${HELPER_PATH}` },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group: on timeout the helper's children (iptables, sleep) die with it
      // instead of holding our pipes open.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, options.timeoutMs)
      : undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    // A plugin that exits before reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Runs and throws unless the program exits 0; the message carries its stderr. */
export async function runOk(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  const r = await run(file, args, { timeoutMs: 30_000, ...options });
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
    const detail = r.stderr.trim() || r.stdout.trim();
    throw new HostError(`${file} ${args.join(' ')}: ${why}${detail ? `: ${detail}` : ''}`, {
      hint: `${file} (installed by scripts/install-deps.sh): run the command by hand to see what it needs`,
    });
  }
  return r.stdout;
}
