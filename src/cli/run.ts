/**
 * `minipod run [-d] MANIFEST`: the client side. The daemon (src/daemon/server.ts, started on
 * demand) parses the manifest and supervises the pod; an attached `run` prints what the daemon
 * sends and stays until the pod ends, a detached one returns once every container runs.
 */
import path from 'node:path';
import type { Socket } from 'node:net';
import { ExitCode } from '../errors.js';
import { readManifestFile } from '../manifest/read-file.js';
import type { PodSpec } from '../manifest/types.js';
import { minipodPaths, type MinipodPaths } from '../paths.js';
import { connectDaemon, sendRequest, throwIfError } from '../daemon/client.js';
import { writeJsonLine } from '../daemon/protocol.js';
import { trace, traceAt, tracing } from '../trace.js';
import { requireRoot } from './report.js';

export interface RunOptions {
  detach?: boolean;
}

export async function runCommand(manifest: string, options: RunOptions): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  const { text, dir } = readManifestFile(manifest);
  trace('manifest read');
  let socket = await connectDaemon(paths, false);
  if (!socket) {
    // No daemon yet: a manifest that does not parse must not leave one behind. (With one
    // running, it parses; the parser is loaded here only on this cold path.)
    const { parsePodManifest } = await import('../manifest/load.js');
    parsePodManifest(text, { manifestDir: dir, source: manifest });
    socket = (await connectDaemon(paths, true))!;
  }
  trace('daemon connected');
  return runThroughDaemon(socket, paths, { manifest: { source: manifest, path: path.resolve(manifest), text } }, options.detach ?? false);
}

/** Starts a saved spec again, detached (`restart`). */
export async function runSpecDetached(paths: MinipodPaths, spec: PodSpec, manifestPath: string | undefined): Promise<number> {
  const socket = (await connectDaemon(paths, true))!;
  return runThroughDaemon(socket, paths, { spec, manifestPath }, true);
}

type RunSource = { manifest: { source: string; path: string; text: string } } | { spec: PodSpec; manifestPath?: string };

/**
 * When the reader of our output goes away (`minipod run ... | head`), output stops but the pod
 * goes on: its logs are still written, and Ctrl-C or SIGTERM stop it as usual.
 */
async function runThroughDaemon(socket: Socket, paths: MinipodPaths, source: RunSource, detach: boolean): Promise<number> {
  const closed = new Set<NodeJS.WriteStream>();
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => closed.add(stream));
  const write = (out: NodeJS.WriteStream, text: string): void => {
    if (!closed.has(out)) out.write(text);
  };
  let pod = '';
  const sentAt = performance.now();
  const call = sendRequest(socket, paths, { op: 'run', ...source, detach, trace: tracing() }, (m) => {
    if (m.t === 'out') write(m.s === 'stdout' ? process.stdout : process.stderr, m.x);
    else if (m.t === 'pod') pod = m.name;
    else if (m.t === 'trace') traceAt(sentAt + m.ms, m.step);
  });
  if (!detach) {
    // The daemon stops the pod in order (preStop, grace period); a second signal kills it.
    const onSignal = (signal: NodeJS.Signals): void => {
      const code = signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143;
      write(process.stderr, `minipod: ${signal}: stopping pod ${pod}\n`);
      writeJsonLine(socket, { op: 'stop', signalExit: code, signal });
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  }
  const final = await call.result;
  trace('answer received');
  throwIfError(final);
  if (final.t === 'started') {
    // Containers that could not start are reported, as podman does, with their exit code.
    process.stdout.write(`${final.name}\n`);
    if (final.failed) {
      process.stderr.write(`minipod: container ${final.failed.name} could not start: ${final.failed.message}\n`);
      return final.failed.exitCode;
    }
    return 0;
  }
  return final.t === 'exit' ? final.code : ExitCode.runtime;
}
