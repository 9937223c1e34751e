/**
 * exec to completion with captured output and a deadline: what exec probes and lifecycle
 * hooks need. A process still running at the deadline is killed and counts as timed out.
 */
import { UserError } from '../errors.js';
import { type ExecOptions, execInContainer } from './exec.js';

/** Kubernetes keeps at most 10 KiB of a probe's output. */
const MAX_OUTPUT = 10 * 1024;

export interface RunResult {
  exitCode: number;
  /** stdout and stderr interleaved, cut at 10 KiB. */
  output: string;
  timedOut: boolean;
}

export type RunOptions = Omit<ExecOptions, 'stdio' | 'stdin' | 'tty' | 'windowSize'> & {
  timeoutMs: number;
  /** Aborting kills the process (the probe's own deadline, or the container stopping). */
  signal?: AbortSignal;
};

export async function runInContainer(o: RunOptions): Promise<RunResult> {
  const started = Date.now();
  let proc;
  try {
    proc = await execInContainer({ ...o, stdio: 'pipe', stdin: false, tty: false });
  } catch (err) {
    // A command that cannot run is a result (126/127), not a failure of ours.
    if (err instanceof UserError && (err.exitCode === 126 || err.exitCode === 127)) {
      return { exitCode: err.exitCode, output: err.message, timedOut: false };
    }
    throw err;
  }
  let output = '';
  const collect = (d: Buffer): void => {
    if (output.length < MAX_OUTPUT) output = (output + d.toString('utf8')).slice(0, MAX_OUTPUT);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  let timedOut = false;
  const onTimeout = (): void => {
    timedOut = true;
    proc.kill('SIGKILL');
  };
  const timer = setTimeout(onTimeout, Math.max(0, o.timeoutMs - (Date.now() - started)));
  o.signal?.addEventListener('abort', onTimeout, { once: true });
  if (o.signal?.aborted) onTimeout();
  const ended = (r: NodeJS.ReadableStream | null): Promise<void> =>
    r ? new Promise((resolve) => r.once('close', () => resolve())) : Promise.resolve();
  const closed = Promise.all([ended(proc.stdout), ended(proc.stderr)]);
  try {
    const exitCode = await proc.exited;
    // The last output may still be in the pipes; a background child holding them open must
    // not hold us, though.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 200).unref())]);
    return { exitCode, output, timedOut };
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onTimeout);
  }
}
