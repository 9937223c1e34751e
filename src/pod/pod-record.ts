/**
 * The pod's record under the run dir: claiming the name (an atomic mkdir), the saved spec that
 * `restart` starts from, and the state file, rewritten at every change while the pod exists.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { UserError, withContext } from '../errors.js';
import { withoutSecretData } from '../manifest/redact.js';
import type { PodSpec } from '../manifest/types.js';
import { type MinipodPaths, podLayout, podSpecFile, podsRunDir } from '../paths.js';
import { writeFileAtomic } from '../state/lock.js';
import { type ContainerMonitor, type ContainerState, type PodState, processRef, writePodState } from '../state/pod-state.js';

/**
 * mkdir of the pod's run dir: EEXIST means the name is taken. Then the spec and the first
 * state are saved, atomically; if either cannot be (a full or read-only run dir) the dir goes
 * again, so a retry does not meet a half-made pod that "already exists".
 */
export function claimPodName(paths: MinipodPaths, spec: PodSpec, state: PodState): void {
  const dir = podLayout(paths, spec.name).runDir;
  try {
    fs.mkdirSync(podsRunDir(paths), { recursive: true, mode: 0o700 });
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError(`pod "${spec.name}" already exists: see \`minipod ps\`, remove it with \`minipod rm -f ${spec.name}\``, {
        code: 'pod.exists',
      });
    }
    throw withContext(`create the record of pod ${spec.name}`, err);
  }
  try {
    // Secret content stays in memory: the saved spec says where it came from.
    writeFileAtomic(podSpecFile(paths, spec.name), JSON.stringify(withoutSecretData(spec)));
    writePodState(paths, state);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw withContext(`create the record of pod ${spec.name}`, err);
  }
}

/** Writes the state unless the pod was torn down already; a failure is a warning, not the pod's end. */
export function savePodState(paths: MinipodPaths, state: PodState, warn: (message: string) => void): void {
  if (!fs.existsSync(podLayout(paths, state.name).runDir)) return;
  try {
    writePodState(paths, state);
  } catch (err) {
    warn(`could not write the pod's state: ${(err as Error).message}`);
  }
}

/** A new pod's first state: Pending, supervised by this process. */
export function newPodState(
  spec: PodSpec,
  containers: ContainerState[],
  o: { manifestPath?: string; keepRecord?: boolean; monitor: ContainerMonitor },
): PodState {
  return {
    name: spec.name,
    // The pod's identity for the downward API (metadata.uid); a restart is a new pod.
    uid: randomUUID(),
    phase: 'Pending',
    createdAt: new Date().toISOString(),
    manifestPath: o.manifestPath,
    supervisor: processRef(process.pid),
    hostname: spec.hostname,
    cgroupPaths: [],
    containers,
    keepRecord: o.keepRecord ?? false,
    owner: spec.owner,
    monitor: o.monitor,
  };
}
