/** Where each piece of one pod lives on the host (all derived from the pod's name). */
import path from 'node:path';
import { type MinipodPaths, podLibDir, podLogDir, podRunDir } from '../paths.js';

export interface PodLayout {
  runDir: string;
  libDir: string;
  logDir: string;
  /** Empty dir the pod init's tmpfs root is mounted on (in the init's own mount namespace). */
  initRoot: string;
  /** tmpfs shared by every container as /dev/shm. */
  shm: string;
  etcHosts: string;
  etcHostname: string;
  resolvConf: string;
  volumesDir: string;
}

export function podLayout(paths: MinipodPaths, pod: string): PodLayout {
  const runDir = podRunDir(paths, pod);
  const libDir = podLibDir(paths, pod);
  return {
    runDir,
    libDir,
    logDir: podLogDir(paths, pod),
    initRoot: path.join(runDir, 'init-root'),
    shm: path.join(runDir, 'shm'),
    etcHosts: path.join(runDir, 'hosts'),
    etcHostname: path.join(runDir, 'hostname'),
    resolvConf: path.join(runDir, 'resolv.conf'),
    volumesDir: path.join(libDir, 'volumes'),
  };
}

export interface ContainerLayout {
  /** The container's ProcessSpec and cgroup.procs files as last started, for exec and probes. */
  processFile: string;
  upperDir: string;
  workDir: string;
  mountPoint: string;
  logPath: string;
}

export function containerLayout(layout: PodLayout, container: string): ContainerLayout {
  const dir = path.join(layout.libDir, 'containers', container);
  return {
    processFile: path.join(layout.runDir, 'containers', `${container}.json`),
    upperDir: path.join(dir, 'upper'),
    workDir: path.join(dir, 'work'),
    mountPoint: path.join(dir, 'rootfs'),
    logPath: path.join(layout.logDir, `${container}.log`),
  };
}
