/** `minipod run [-d] MANIFEST`: start a pod; attached, stay with it until it ends. */
import { loadPodManifest } from '../manifest/index.js';
import type { LogStream } from '../logs/cri-log.js';
import { gc } from '../pod/control.js';
import { PodSupervisor } from '../pod/supervisor.js';
import { trace } from '../trace.js';
import { hostRuntime, requireRoot } from './common.js';
import { startDetached } from './supervise.js';

export interface RunOptions {
  detach?: boolean;
}

/**
 * `web | line` with names padded to one width, like compose, so columns line up. When the
 * reader goes away (`minipod run ... | head`), output stops but the pod goes on: the logs are
 * still written, and Ctrl-C or SIGTERM stop it as usual.
 */
function attachedOutput(names: string[]) {
  const width = Math.max(...names.map((n) => n.length));
  const closed = new Set<NodeJS.WriteStream>();
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => closed.add(stream));
  const write = (out: NodeJS.WriteStream, text: string): void => {
    if (!closed.has(out)) out.write(text);
  };
  return {
    line(container: string, stream: LogStream, text: string): void {
      write(stream === 'stdout' ? process.stdout : process.stderr, `${container.padEnd(width)} | ${text}\n`);
    },
    event(message: string): void {
      write(process.stderr, `minipod: ${message}\n`);
    },
  };
}

export async function runCommand(manifest: string, options: RunOptions): Promise<number> {
  requireRoot();
  const spec = loadPodManifest(manifest);
  trace('manifest loaded');
  const rt = hostRuntime();
  // Whatever a crashed or killed minipod left behind is freed before a new pod takes its place.
  await gc({ ...rt, warn: (m) => process.stderr.write(`minipod: warning: ${m}\n`) });
  trace('gc done');
  if (options.detach) return startDetached(spec, manifest);

  const names = [...spec.initContainers, ...spec.containers].map((c) => c.name);
  const supervisor = new PodSupervisor(spec, {
    ...rt,
    output: attachedOutput(names),
    manifestPath: manifest,
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143;
    process.stderr.write(`minipod: ${signal}: stopping pod ${spec.name}\n`);
    void supervisor.stop({ signalExit: code });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  await supervisor.start();
  return supervisor.done;
}
