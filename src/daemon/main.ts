/** `minipod daemon run`'s process: the daemon's settings from the environment, logging, and its life. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { conmonBinary } from '../conmon/spawn.js';
import { ExitCode, UserError } from '../errors.js';
import { type BundleWriter, writeOciBundle } from '../pod/held-container.js';
import { hostRuntime } from '../pod/runtime.js';
import type { ContainerMonitor } from '../state/pod-state.js';
import { PodDaemon } from './server.js';

/** The daemon holds containers unless MINIPOD_CONTAINER_MONITOR=conmon (docs/architecture.md). */
const DEFAULT_MONITOR: ContainerMonitor = 'daemon';

/** `minipod daemon run`: the daemon in this process, logging to stderr. */
export async function runDaemonProcess(options: { idleMs: number; warmSandboxes: number; readyFd?: number }): Promise<number> {
  const rt = hostRuntime();
  process.title = 'minipod-daemon';
  const log = (m: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  };
  const ready = (msg: object): void => {
    if (options.readyFd === undefined) return;
    try {
      fs.writeSync(options.readyFd, JSON.stringify(msg) + '\n');
      fs.closeSync(options.readyFd);
    } catch {
      // Whoever started us is gone; we serve the next client.
    }
  };
  // A bug of ours must not take every pod's supervisor down with it: log it and go on.
  process.on('uncaughtException', (err) => log(`internal error (uncaught): ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => log(`internal error (unhandled rejection): ${(err as Error)?.stack ?? String(err)}`));
  const monitor = containerMonitor(process.env, log);
  const codeFile = fileURLToPath(import.meta.url);
  const daemon = new PodDaemon(rt, {
    ...options,
    ready,
    log,
    monitor,
    codeFile,
    writeBundle: monitor === 'conmon' ? bundleWriter() : undefined,
  });
  try {
    return await daemon.run();
  } catch (err) {
    ready({ error: (err as Error).message });
    log(`cannot start: ${(err as Error).stack ?? String(err)}`);
    return ExitCode.runtime;
  }
}

/**
 * Who holds the containers, from MINIPOD_CONTAINER_MONITOR: `conmon` (containers outlive the
 * daemon; needs conmon installed) or `daemon` (the default: the daemon is their parent).
 */
export function containerMonitor(env: NodeJS.ProcessEnv, log: (m: string) => void): ContainerMonitor {
  const asked = env.MINIPOD_CONTAINER_MONITOR;
  if (asked !== undefined && asked !== 'conmon' && asked !== 'daemon') {
    throw new UserError(`MINIPOD_CONTAINER_MONITOR: "${asked}" is neither conmon nor daemon`);
  }
  const wanted = asked ?? DEFAULT_MONITOR;
  if (wanted === 'conmon' && !fs.existsSync(conmonBinary(env))) {
    if (asked) throw new UserError(`MINIPOD_CONTAINER_MONITOR=conmon: ${conmonBinary(env)} is not installed (apt-get install conmon)`);
    log(`${conmonBinary(env)} is not installed: the daemon holds containers (they die with it)`);
    return 'daemon';
  }
  return wanted;
}

/** The OCI config writer for conmon's runtime (src/oci's config from the plan). */
function bundleWriter(): BundleWriter {
  return writeOciBundle;
}
