/** `stop`, `kill`, `restart`, `rm`, `gc`, `stats`: verbs on pods that already exist. */
import { UserError } from '../errors.js';
import { callDaemon, throwIfError } from '../daemon/client.js';
import { gc, killPod, removePod, stopPod, type PodControl } from '../pod/control.js';
import { teardownPod } from '../pod/teardown.js';
import { isAlive, listPodNames, readPodSpec, readPodState, requirePodState, withPodLock } from '../state/pod-state.js';
import { hostRuntime, requireRoot } from './common.js';
import { statsCommand } from './stats.js';
import { expandPodArguments } from '../state/owners.js';
import { removeVolumesOfOwner } from '../volumes/store.js';
import { runSpecDetached } from './run.js';

function control(): PodControl {
  requireRoot();
  const rt = hostRuntime();
  return {
    ...rt,
    warn: (m) => process.stderr.write(`minipod: warning: ${m}\n`),
    stopSupervised: async (pod, graceSeconds) => {
      const answer = await callDaemon(rt.paths, { op: 'stop', pod, graceSeconds });
      if (answer?.t === 'exit') return 'stopped';
      if (answer?.t === 'error' && answer.code !== 'daemon.unknown-pod') throwIfError(answer);
      return answer === undefined ? 'no-answer' : 'unknown';
    },
  };
}

function parseSeconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag}: "${value}" is not a whole number of seconds`);
  return n;
}

export async function stopCommand(args: string[], o: { time?: string }): Promise<number> {
  const c = control();
  const grace = parseSeconds(o.time, '--time');
  for (const pod of expandPodArguments(c.paths, args).pods) {
    await withPodLock(c.paths, pod, () => stopPod(c, pod, grace));
    process.stdout.write(`${pod}\n`);
  }
  return 0;
}

const SIGNALS = new Set(['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGCONT', 'SIGSTOP', 'SIGWINCH']);

export function killCommand(pod: string, container: string | undefined, o: { signal?: string }): number {
  const c = control();
  let sig = (o.signal ?? 'SIGKILL').toUpperCase();
  if (/^\d+$/.test(sig)) {
    const byNumber: Record<string, string> = {
      '1': 'SIGHUP',
      '2': 'SIGINT',
      '3': 'SIGQUIT',
      '9': 'SIGKILL',
      '10': 'SIGUSR1',
      '12': 'SIGUSR2',
      '15': 'SIGTERM',
    };
    sig = byNumber[sig] ?? sig;
  }
  if (!sig.startsWith('SIG')) sig = `SIG${sig}`;
  if (!SIGNALS.has(sig)) throw new UserError(`--signal: "${o.signal}" is not a signal minipod sends`);
  killPod(c, pod, sig as NodeJS.Signals, container);
  process.stdout.write(`${pod}\n`);
  return 0;
}

export async function restartCommand(pod: string, o: { time?: string }): Promise<number> {
  const c = control();
  return withPodLock(c.paths, pod, () => restartPod(c, pod, o));
}

async function restartPod(c: PodControl, pod: string, o: { time?: string }): Promise<number> {
  requirePodState(c.paths, pod);
  const spec = readPodSpec(c.paths, pod);
  if (!spec) throw new UserError(`pod "${pod}" has no saved spec to restart from; run its manifest again`);
  if (spec.secretDataRemoved) {
    throw new UserError(
      `pod "${pod}" uses Secrets, whose content minipod does not write to disk: \`minipod rm -f ${pod}\` and run its manifests again`,
      { code: 'pod.secret-data' },
    );
  }
  const manifestPath = readPodState(c.paths, pod)?.manifestPath;
  await stopPod(c, pod, parseSeconds(o.time, '--time'));
  await teardownPod(pod, { ...c, keepLogs: true, keepState: false });
  return runSpecDetached(c.paths, spec, manifestPath);
}

export async function rmCommand(args: string[], o: { force?: boolean }): Promise<number> {
  const c = control();
  const { pods, owners } = expandPodArguments(c.paths, args);
  for (const pod of pods) {
    await withPodLock(c.paths, pod, () => removePod(c, pod, o.force ?? false));
    process.stdout.write(`${pod}\n`);
  }
  // A StatefulSet with persistentVolumeClaimRetentionPolicy.whenDeleted: Delete takes its claims along.
  for (const owner of owners) await removeVolumesOfOwner(c.paths, owner);
  return 0;
}

export async function gcCommand(): Promise<number> {
  const c = control();
  const report = await gc(c);
  for (const p of report.pods) process.stdout.write(`pod ${p}: torn down (its supervisor was gone)\n`);
  for (const p of report.cgroups) process.stdout.write(`cgroup of ${p}: removed\n`);
  for (const n of report.network) process.stdout.write(`network: ${n}\n`);
  for (const m of report.mounts) process.stdout.write(`mount: ${m}\n`);
  for (const f of report.files) process.stdout.write(`temp file of a dead writer: ${f}: removed\n`);
  return 0;
}

export async function statsCliCommand(pod: string | undefined, o: { stream?: boolean; format?: string }): Promise<number> {
  const c = control();
  if (o.format && o.format !== 'json' && o.format !== 'table') throw new UserError(`--format: "${o.format}" is not table or json`);
  if (pod) requirePodState(c.paths, pod);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  await statsCommand({
    manager: c.cgroups,
    noStream: o.stream === false,
    format: o.format === 'json' ? 'json' : 'table',
    signal: abort.signal,
    pods: () =>
      listPodNames(c.paths)
        .filter((n) => !pod || n === pod)
        .flatMap((n) => readPodState(c.paths, n) ?? [])
        .filter((s) => isAlive(s.init))
        .map((s) => ({ name: s.name, containers: s.containers.filter((ct) => ct.state === 'running').map((ct) => ct.name) })),
  });
  return 0;
}
