/**
 * Detached pods: `run -d` starts `minipod __supervise` in its own session with the validated
 * spec on stdin and a readiness pipe on fd 3. The supervisor answers on fd 3 once every
 * container is running (or failed to start) and then lives on, without a terminal, until the
 * pod ends.
 *
 * Readiness protocol on fd 3, one JSON line:  {"ok": true}  or  {"error": "...", "exitCode": N}
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Socket } from 'node:net';
import { ExitCode, UserError } from '../errors.js';
import type { PodSpec } from '../manifest/types.js';
import { readStopRequest } from '../pod/control.js';
import { podLayout } from '../pod/layout.js';
import { PodSupervisor } from '../pod/supervisor.js';
import { readPodState } from '../state/pod-state.js';
import { hostRuntime, reportError } from './common.js';

const READY_FD = 3;

interface SuperviseInput {
  spec: PodSpec;
  manifestPath?: string;
}

/** Runs in the detached process. */
export async function superviseCommand(): Promise<number> {
  const input = JSON.parse(fs.readFileSync(0, 'utf8')) as SuperviseInput;
  const rt = hostRuntime();
  const layout = podLayout(rt.paths, input.spec.name);
  const event = (message: string): void => {
    try {
      fs.mkdirSync(layout.logDir, { recursive: true });
      fs.appendFileSync(`${layout.logDir}/minipod.events`, `${new Date().toISOString()} ${message}\n`);
    } catch {
      // Nowhere left to say it.
    }
  };
  const supervisor = new PodSupervisor(input.spec, {
    ...rt,
    output: { line: () => {}, event },
    manifestPath: input.manifestPath,
    keepRecord: true,
  });
  const onSignal = (): void => {
    const { graceSeconds } = readStopRequest(rt.paths, input.spec.name);
    void supervisor.stop({ graceSeconds });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {});
  // No terminal to print to: a bug of ours goes to the pod's events, and the pod is taken
  // down rather than left running without its supervisor.
  const onCrash = (err: unknown): void => {
    event(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    void supervisor.stop({ graceSeconds: 0 }).finally(() => process.exit(ExitCode.runtime));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const ready = (msg: object): void => {
    try {
      fs.writeSync(READY_FD, JSON.stringify(msg) + '\n');
      fs.closeSync(READY_FD);
    } catch {
      // The `run -d` that waited for us is gone; the pod goes on.
    }
  };
  try {
    await supervisor.start();
    ready({ ok: true });
  } catch (err) {
    const code = reportError(err); // to /dev/null, but keeps the exit code mapping in one place
    ready({ error: (err as Error).message, exitCode: code });
    return code;
  }
  return supervisor.done;
}

/** Runs in `run -d`: starts the supervisor and waits for its readiness line. */
export async function startDetached(spec: PodSpec, manifestPath: string): Promise<number> {
  const child = spawn(process.execPath, [process.argv[1]!, '__supervise'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore', 'pipe'],
    env: process.env,
  });
  child.stdin!.end(JSON.stringify({ spec, manifestPath } satisfies SuperviseInput));
  const readyPipe = child.stdio[3] as Socket;
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    readyPipe.on('data', (d: Buffer) => (buf += d.toString()));
    readyPipe.on('close', () => resolve(buf.trim()));
  });
  child.unref();
  readyPipe.destroy();
  if (!line) {
    throw new Error('the pod supervisor exited before the pod was ready');
  }
  const msg = JSON.parse(line) as { ok?: boolean; error?: string; exitCode?: number };
  if (msg.error) throw new UserError(msg.error, { exitCode: msg.exitCode ?? ExitCode.runtime });
  // Containers that could not start are reported, as podman does, with their exit code.
  const state = readPodState(hostRuntime().paths, spec.name);
  const failed = state?.containers.find((c) => c.reason === 'StartError');
  process.stdout.write(`${spec.name}\n`);
  if (failed) {
    process.stderr.write(`minipod: container ${failed.name} could not start: ${failed.message ?? ''}\n`);
    return failed.exitCode ?? ExitCode.runtime;
  }
  return 0;
}
