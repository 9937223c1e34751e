/**
 * The host side of one container instance: a fresh writable layer per start, the previous
 * instance's log kept beside the new one, the host directories its plan refers to, and the
 * process record that `exec` and probes read to run processes the way the container runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerSpec } from '../manifest/types.js';
import type { ContainerHostDirs } from '../plan/container.js';
import type { ContainerPlan, ContainerProcessRecord } from '../plan/types.js';
import { type ContainerLayout, containerLayout, type PodLayout } from './layout.js';
import { prepareSubPaths, type PreparedVolumes } from './volumes.js';

/** Written at every container start (`containers/<name>.json` in the pod's run dir). */
export type { ContainerProcessRecord } from '../plan/types.js';

/**
 * A restart is a new container, as in Kubernetes: a fresh writable layer; the last instance's
 * log becomes `<name>.previous.log` (kubelet keeps one).
 */
export function prepareContainerDirs(pod: PodLayout, container: string, restarted: boolean): ContainerLayout {
  const layout = containerLayout(pod, container);
  fs.rmSync(layout.upperDir, { recursive: true, force: true });
  fs.rmSync(layout.workDir, { recursive: true, force: true });
  for (const d of [layout.upperDir, layout.workDir, layout.mountPoint]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  if (restarted && fs.existsSync(layout.logPath)) {
    fs.renameSync(layout.logPath, layout.logPath.replace(/\.log$/, '.previous.log'));
  }
  return layout;
}

export function containerHostDirs(
  pod: PodLayout,
  container: ContainerLayout,
  spec: ContainerSpec,
  layers: string[],
  volumes: PreparedVolumes,
): ContainerHostDirs {
  return {
    lowerDirs: layers,
    upperDir: container.upperDir,
    workDir: container.workDir,
    mountPoint: container.mountPoint,
    etcHosts: pod.etcHosts,
    etcHostname: pod.etcHostname,
    resolvConf: pod.resolvConf,
    shm: pod.shm,
    volumes: volumes.byName,
    subPaths: prepareSubPaths(spec, volumes),
  };
}

/** Whether a bind source is a file (its target must be a file too). */
export function isFileOnHost(p: string): boolean {
  try {
    return !fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function writeProcessRecord(layout: ContainerLayout, plan: ContainerPlan): void {
  fs.mkdirSync(path.dirname(layout.processFile), { recursive: true, mode: 0o700 });
  const record: ContainerProcessRecord = { process: plan.process, cgroupProcs: plan.cgroupProcs };
  fs.writeFileSync(layout.processFile, JSON.stringify(record));
}

export function readProcessRecord(layout: ContainerLayout): ContainerProcessRecord {
  return JSON.parse(fs.readFileSync(layout.processFile, 'utf8')) as ContainerProcessRecord;
}
