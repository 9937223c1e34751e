/**
 * A daemon's start: taking over the pods a previous daemon left running (it was killed, or
 * handed them over for `minipod daemon restart`). Their containers are held by conmon and never
 * noticed the daemon go; a pod that cannot be adopted (adoption.ts says why) is left to gc,
 * which tears it down as before.
 */
import fs from 'node:fs';
import type { PodSpec } from '../manifest/types.js';
import { podLayout, podSpecFile } from '../paths.js';
import { readAdoptionRecord, whyNotAdoptable } from '../pod/adoption.js';
import { PodSupervisor, type SupervisorOptions } from '../pod/supervisor.js';
import { isAlive, isTerminalPhase, listPodNames, readPodState, withPodLock } from '../state/pod-state.js';
import type { Runtime } from '../pod/runtime.js';

export interface AdoptedPod {
  name: string;
  supervisor: PodSupervisor;
}

/** Adopts every adoptable pod whose supervisor is gone; `options` gives each its supervisor's options. */
export async function adoptPods(
  rt: Runtime,
  options: (spec: PodSpec) => SupervisorOptions,
  log: (message: string) => void,
): Promise<AdoptedPod[]> {
  const adopted: AdoptedPod[] = [];
  for (const name of listPodNames(rt.paths)) {
    const state = readPodState(rt.paths, name);
    if (!state || isTerminalPhase(state.phase) || isAlive(state.supervisor)) continue;
    if (state.monitor !== 'conmon') continue; // gc's, as before
    const layout = podLayout(rt.paths, name);
    const record = readAdoptionRecord(layout);
    const why = whyNotAdoptable(state, record, isAlive(state.init));
    if (why) {
      log(`pod ${name} cannot be adopted (${why}): gc tears it down`);
      continue;
    }
    let spec: PodSpec;
    try {
      spec = JSON.parse(fs.readFileSync(podSpecFile(rt.paths, name), 'utf8')) as PodSpec;
    } catch (err) {
      log(`pod ${name} cannot be adopted (its spec: ${(err as Error).message}): gc tears it down`);
      continue;
    }
    // Under the pod's lock: a `stop` or `rm -f` acting on the orphan meanwhile goes first.
    const supervisor = await withPodLock(rt.paths, name, async () => {
      const now = readPodState(rt.paths, name);
      if (!now || isTerminalPhase(now.phase) || isAlive(now.supervisor)) return undefined;
      return PodSupervisor.adopt(spec, now, record!, options(spec));
    });
    if (!supervisor) continue;
    log(`adopted pod ${name} (${state.containers.filter((c) => c.state === 'running').length} containers running)`);
    adopted.push({ name, supervisor });
  }
  return adopted;
}
