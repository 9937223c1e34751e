/** `minipod run MANIFEST`: start a pod and stay attached to it until it ends. */
import { loadPodManifest } from '../manifest/index.js';
import type { LogStream } from '../logs/cri-log.js';
import { PodSupervisor } from '../pod/supervisor.js';
import { hostRuntime, requireRoot } from './common.js';

export interface RunOptions {
  detach?: boolean;
}

/** `web | line` with names padded to one width, like compose, so columns line up. */
function attachedOutput(names: string[]) {
  const width = Math.max(...names.map((n) => n.length));
  return {
    line(container: string, stream: LogStream, text: string): void {
      const out = stream === 'stdout' ? process.stdout : process.stderr;
      out.write(`${container.padEnd(width)} | ${text}\n`);
    },
    event(message: string): void {
      process.stderr.write(`minipod: ${message}\n`);
    },
  };
}

export async function runCommand(manifest: string, _options: RunOptions): Promise<number> {
  requireRoot();
  const spec = loadPodManifest(manifest);
  const rt = hostRuntime();
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
