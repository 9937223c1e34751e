/** `minipod daemon run`'s process: the daemon's settings from the environment, logging, and its life. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../errors.js';
import { type BundleWriter, writeOciBundle } from '../pod/held-container.js';
import { hostRuntime } from '../pod/runtime.js';
import { containerMonitor } from './monitor.js';
import { PodDaemon } from './server.js';

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

/** The OCI config writer for conmon's runtime (src/oci's config from the plan). */
function bundleWriter(): BundleWriter {
  return writeOciBundle;
}
