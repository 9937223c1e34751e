/**
 * Running the tools under test. Wall time is taken in this process from just before spawn to
 * the child's 'exit' event, the same way for every tool, so the fixed cost of spawning from
 * Node (a millisecond or two) is in every number alike and cancels out of the ratios.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

export interface Timed {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A started process whose output is collected; `exited` resolves at its 'exit' event. */
export interface Running {
  child: ChildProcess;
  startedMs: number;
  /** Output seen so far (live). */
  out: { stdout: string; stderr: string };
  exited: Promise<Timed>;
}

export function start(cmd: string, args: string[], opts: RunOptions = {}): Running {
  const out = { stdout: '', stderr: '' };
  const startedMs = nowMs();
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const exited = new Promise<Timed>((resolve, reject) => {
    let exit: { ms: number; code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // Time at 'exit'; resolve at 'close' so the output is complete. A container that keeps a
    // copy of our pipe open would hold 'close' back, but not the measured time.
    child.on('exit', (code, signal) => (exit = { ms: nowMs() - startedMs, code, signal }));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      exit ??= { ms: nowMs() - startedMs, code, signal };
      resolve({ ...exit, ...out });
    });
  });
  return { child, startedMs, out, exited };
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Timed> {
  return start(cmd, args, opts).exited;
}

/** Untimed helper for setup and checks: throws with stderr on failure. */
export function sh(script: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync('sh', ['-c', script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Like sh but never throws; for cleanup steps that may have nothing to do. */
export function trySh(script: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return sh(script, env);
  } catch {
    return '';
  }
}

export class GuardFailed extends Error {
  override name = 'GuardFailed';
}

/** Throws unless the run exited 0 and printed the marker: proof the container really ran. */
export function expectRan(tool: string, r: Timed, marker: string): void {
  if (r.code !== 0 || !r.stdout.includes(marker)) {
    throw new GuardFailed(
      `${tool}: expected exit 0 and "${marker}" on stdout, got code=${r.code} signal=${r.signal}\n` +
        `stdout: ${r.stdout.slice(-500)}\nstderr: ${r.stderr.slice(-1000)}`,
    );
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 30_000, everyMs = 2): Promise<T> {
  const deadline = nowMs() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (nowMs() > deadline) throw new GuardFailed(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
