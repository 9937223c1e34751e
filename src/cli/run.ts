/**
 * `minipod run [-d] [--dry-run] [-f] FILE...`: the client side. The daemon (src/daemon/server.ts, started on
 * demand) parses the manifest and supervises the pod; an attached `run` prints what the daemon
 * sends and stays until the pod ends, a detached one returns once every container runs.
 */
import path from 'node:path';
import type { Socket } from 'node:net';
import { ExitCode, UserError } from '../errors.js';
import type { ManifestSource } from '../manifest/bundle.js';
import { readManifestFile } from '../manifest/read-file.js';
import type { PodSpec } from '../manifest/types.js';
import { minipodPaths, podLayout, type MinipodPaths } from '../paths.js';
import { connectDaemon, daemonDied, sendRequest, throwIfError } from '../daemon/client.js';
import { readAdoptionRecord, whyNotAdoptable } from '../pod/adoption.js';
import { isAlive, readPodState } from '../state/pod-state.js';
import { writeJsonLine } from '../daemon/protocol.js';
import { trace, traceAt, tracing } from '../trace.js';
import { requireRoot } from './report.js';

export interface RunOptions {
  detach?: boolean;
}

/** Reads the manifest files as the user named them (relative to the client's directory). */
export function readManifestSources(files: readonly string[]): ManifestSource[] {
  if (files.length === 0) throw new UserError('run: name at least one manifest file', { code: 'run.no-manifest' });
  return files.map((file) => ({ source: file, path: path.resolve(file), text: readManifestFile(file).text }));
}

export async function runCommand(files: readonly string[], options: RunOptions): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  const manifests = readManifestSources(files);
  trace('manifest read');
  let socket = await connectDaemon(paths, false);
  if (!socket) {
    // No daemon yet: manifests that do not parse must not leave one behind. (With one running,
    // it parses them and sends the warnings; the parser is loaded here only on this cold path.)
    const { decodeManifestBundle } = await import('../manifest/bundle.js');
    const { ManifestError } = await import('../manifest/issues.js');
    const checked = decodeManifestBundle(manifests);
    if (!checked.bundle) throw new ManifestError(checked.errors);
    socket = (await connectDaemon(paths, true))!;
  }
  trace('daemon connected');
  return runThroughDaemon(socket, paths, { manifests }, options.detach ?? false);
}

/**
 * `run --dry-run`: every document decoded and checked, every warning and every error printed;
 * nothing resolved, pulled, started or written, and no daemon (no root needed either).
 */
export async function dryRunCommand(files: readonly string[]): Promise<number> {
  const { decodeManifestBundle, formatWarning } = await import('../manifest/bundle.js');
  const { formatIssue } = await import('../manifest/issues.js');
  const result = decodeManifestBundle(readManifestSources(files));
  for (const w of result.warnings) process.stderr.write(`${formatWarning(w)}\n`);
  for (const e of result.errors) process.stderr.write(`minipod: ${formatIssue(e)}\n`);
  if (!result.bundle) return ExitCode.runtime;
  for (const pod of result.bundle.pods) process.stdout.write(`${pod.name}\n`);
  return 0;
}

/** Starts a saved spec again, detached (`restart`). */
export async function runSpecDetached(paths: MinipodPaths, spec: PodSpec, manifestPath: string | undefined): Promise<number> {
  const socket = (await connectDaemon(paths, true))!;
  return runThroughDaemon(socket, paths, { spec, manifestPath }, true);
}

type RunSource = { manifests: ManifestSource[] } | { spec: PodSpec; manifestPath?: string };

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
  if (daemonDied(final) && pod) return daemonGone(paths, pod);
  throwIfError(final);
  if (final.t === 'started') {
    // Containers that could not start are reported, as podman does, with their exit code.
    process.stdout.write(`${final.name}\n`);
    for (const name of final.more ?? []) process.stdout.write(`${name}\n`);
    if (final.failed) {
      process.stderr.write(`minipod: container ${final.failed.name} could not start: ${final.failed.message}\n`);
      return final.failed.exitCode;
    }
    return 0;
  }
  return final.t === 'exit' ? final.code : ExitCode.runtime;
}

/**
 * The daemon died (kill -9, an OOM kill, a crash) before the pod's answer: this client has
 * nothing more to follow. Says what becomes of the pod, as the next daemon will see it: a pod
 * whose containers conmon holds and that got past its start goes on, detached (the next
 * command's daemon adopts it); any other is torn down by `rm -f` or the next daemon's gc.
 */
function daemonGone(paths: MinipodPaths, pod: string): number {
  let fate: string;
  try {
    const state = readPodState(paths, pod);
    const why = state ? whyNotAdoptable(state, readAdoptionRecord(podLayout(paths, pod)), isAlive(state.init)) : 'it has no record';
    fate = why
      ? `pod ${pod} cannot go on without it (${why}): \`minipod rm -f ${pod}\` (or the next daemon's gc) removes what is left`
      : `pod ${pod} goes on, detached: conmon holds its containers (\`minipod logs -f ${pod}\`, \`minipod rm -f ${pod}\`)`;
  } catch (err) {
    fate = `the state of pod ${pod} cannot be read (${(err as Error).message}): see \`minipod ps -a\``;
  }
  process.stderr.write(`minipod: the minipod daemon is gone (killed or crashed); ${fate}\n`);
  return ExitCode.runtime;
}
