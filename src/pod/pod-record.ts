/**
 * The pod's record under the run dir: claiming the name (an atomic mkdir), the saved spec that
 * `restart` starts from, and the state file, rewritten at every change while the pod exists.
 */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { withoutSecretData } from '../manifest/redact.js';
import type { PodSpec } from '../manifest/types.js';
import { type MinipodPaths, podLayout } from '../paths.js';
import { type PodState, specPath, writePodState } from '../state/pod-state.js';

/** mkdir of the pod's run dir: EEXIST means the name is taken. Then the spec is saved. */
export function claimPodName(paths: MinipodPaths, spec: PodSpec): void {
  fs.mkdirSync(`${paths.runDir}/pods`, { recursive: true, mode: 0o700 });
  try {
    fs.mkdirSync(podLayout(paths, spec.name).runDir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError(`pod "${spec.name}" already exists: see \`minipod ps\`, remove it with \`minipod rm -f ${spec.name}\``, {
        code: 'pod.exists',
      });
    }
    throw err;
  }
  // Secret content stays in memory: the saved spec says where it came from.
  fs.writeFileSync(specPath(paths, spec.name), JSON.stringify(withoutSecretData(spec)));
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
