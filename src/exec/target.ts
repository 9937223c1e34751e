/** Finding a running container to exec into: its host pid and its recorded process. */
import { UserError } from '../errors.js';
import type { MinipodPaths } from '../paths.js';
import { containerLayout, podLayout } from '../paths.js';
import { readProcessRecord } from '../state/process-record.js';
import { isAlive, type PodState, readPodState } from '../state/pod-state.js';
import type { ProcessRecord } from '../plan/exec.js';

export interface ExecTarget {
  pod: string;
  container: string;
  /** Host pid of the container's main process: the namespaces to join. */
  pid: number;
  record: ProcessRecord;
  state: PodState;
}

export function resolveExecTarget(paths: MinipodPaths, pod: string, container: string): ExecTarget {
  const state = readPodState(paths, pod);
  if (!state) throw new UserError(`pod "${pod}" does not exist`, { code: 'pod.not-found' });
  const c = state.containers.find((x) => x.name === container);
  if (!c) {
    const names = state.containers.map((x) => x.name).join(', ');
    throw new UserError(`pod "${pod}" has no container "${container}" (it has: ${names})`, { code: 'container.not-found' });
  }
  if (c.state !== 'running' || !c.pid || !isAlive({ pid: c.pid, startTime: c.startTime ?? 0 })) {
    throw new UserError(`container "${container}" of pod "${pod}" is not running`, { code: 'container.not-running' });
  }
  let record: ProcessRecord;
  try {
    record = readProcessRecord(containerLayout(podLayout(paths, pod), container));
  } catch (err) {
    throw new UserError(`container "${container}" of pod "${pod}": no process record (${(err as Error).message})`, {
      code: 'container.no-record',
    });
  }
  return { pod, container, pid: c.pid, record, state };
}
