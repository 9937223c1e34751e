/**
 * The host side of one container instance: a fresh writable layer per start, the previous
 * instance's log kept beside the new one, and the host directories its plan refers to. (The
 * process record that exec and probes read is src/state/process-record.ts.)
 */
import fs from 'node:fs';
import type { ContainerSpec } from '../manifest/types.js';
import type { ContainerHostDirs } from '../plan/container.js';
import { type ContainerLayout, containerLayout, type PodLayout } from '../paths.js';
import { prepareSubPaths, type PreparedVolumes } from './volumes.js';

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
    fs.renameSync(layout.logPath, layout.previousLogPath);
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
