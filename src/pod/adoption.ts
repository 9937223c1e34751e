/**
 * Taking a pod over from a daemon that is gone (killed, or handed its pods to a new one): what a
 * new daemon needs beyond the state file, and which pods it can adopt. A pod is adoptable when
 * its containers are held by conmon (they never depended on the daemon), its init runs, and it
 * had got past its start: every init container done, every app container started at least
 * once. Anything else (a pod caught half-way through its start or its stop, one whose
 * containers the daemon held) is torn down by gc as before.
 */
import fs from 'node:fs';
import type { ResolvedImage } from '../images/types.js';
import type { PodLayout } from '../paths.js';
import type { PodState } from '../state/pod-state.js';
import { writeFileAtomic } from '../state/lock.js';
import type { FinishedContainer } from './restart-policy.js';
import type { PreparedVolumes } from './volumes.js';

/** What the supervisor resolved at the start and needs again for a restart of a container. */
export interface AdoptionRecord {
  /** The resolved image of each container, by name (pinned: the state names them). */
  images: Record<string, ResolvedImage>;
  volumes: PreparedVolumes;
}

export function writeAdoptionRecord(layout: PodLayout, record: AdoptionRecord): void {
  writeFileAtomic(layout.adoptionFile, JSON.stringify(record), 0o600);
}

export function readAdoptionRecord(layout: PodLayout): AdoptionRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(layout.adoptionFile, 'utf8')) as AdoptionRecord;
  } catch {
    return undefined;
  }
}

/** Why a new daemon cannot take this pod over, or undefined when it can. */
export function whyNotAdoptable(state: PodState, record: AdoptionRecord | undefined, initRuns: boolean): string | undefined {
  if (state.monitor !== 'conmon') return 'the daemon held its containers';
  if (state.phase !== 'Running') return `it was ${state.phase}`;
  if (!initRuns) return 'its init is gone';
  if (!record) return 'it has no adoption record';
  for (const c of state.containers) {
    if (c.init && !c.sidecar && !(c.state === 'terminated' && c.exitCode === 0)) return `init container ${c.name} had not completed`;
    if (c.state === 'waiting' && c.restartCount === 0 && !c.startedAt) return `container ${c.name} had not started`;
    if (!record.images[c.name]) return `the image of container ${c.name} is not recorded`;
  }
  return undefined;
}

/** The app containers that had ended, for the pod's result. */
export function finishedApps(state: PodState): FinishedContainer[] {
  return state.containers
    .filter((c) => !c.init && c.state !== 'running' && c.exitCode !== undefined)
    .map((c) => ({ name: c.name, exitCode: c.exitCode!, finishedAt: Date.parse(c.finishedAt ?? '') || 0 }));
}
