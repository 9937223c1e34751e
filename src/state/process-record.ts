/**
 * The process record: what the supervisor writes at every container start
 * (`containers/<name>.json` in the pod's run dir) and what exec and probes read to run processes
 * the way the container runs (its ProcessSpec and the cgroups to join). The environment in it
 * has the values of Secrets: the file is root's alone, on the pod's own tmpfs (pod-files.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerLayout } from '../paths.js';
import type { ContainerPlan, ContainerProcessRecord } from '../plan/types.js';

export type { ContainerProcessRecord } from '../plan/types.js';

export function writeProcessRecord(layout: ContainerLayout, plan: ContainerPlan): void {
  fs.mkdirSync(path.dirname(layout.processFile), { recursive: true, mode: 0o700 });
  const record: ContainerProcessRecord = { process: plan.process, cgroupProcs: plan.cgroupProcs };
  fs.writeFileSync(layout.processFile, JSON.stringify(record), { mode: 0o600 });
}

export function readProcessRecord(layout: ContainerLayout): ContainerProcessRecord {
  return JSON.parse(fs.readFileSync(layout.processFile, 'utf8')) as ContainerProcessRecord;
}
