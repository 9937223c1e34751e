/**
 * Where minipod keeps things on the host. Every root can be moved with an environment variable
 * so tests can run side by side and unit tests can point at a temp dir.
 *
 * - run dir (tmpfs, gone after reboot): per-pod state, locks, sockets.
 * - lib dir (disk): unpacked images, container upper layers, emptyDir volumes.
 * - log dir: CRI-format container logs.
 */
import path from 'node:path';

export interface MinipodPaths {
  runDir: string;
  libDir: string;
  logDir: string;
  cgroupRoot: string;
  /** Name of the top-level cgroup that holds every pod, e.g. `minipod`. */
  cgroupParent: string;
  cniConfDir: string;
  cniPluginDirs: string[];
}

export function minipodPaths(env: NodeJS.ProcessEnv = process.env): MinipodPaths {
  return {
    runDir: env.MINIPOD_RUN_DIR ?? '/run/minipod',
    libDir: env.MINIPOD_LIB_DIR ?? '/var/lib/minipod',
    logDir: env.MINIPOD_LOG_DIR ?? '/var/log/minipod',
    cgroupRoot: env.MINIPOD_CGROUP_ROOT ?? '/sys/fs/cgroup',
    cgroupParent: env.MINIPOD_CGROUP_PARENT ?? 'minipod',
    cniConfDir: env.MINIPOD_CNI_CONF_DIR ?? '/etc/minipod/cni',
    cniPluginDirs: (env.MINIPOD_CNI_PATH ?? '/usr/lib/cni:/opt/cni/bin').split(':').filter(Boolean),
  };
}

export function podRunDir(paths: MinipodPaths, pod: string): string {
  return path.join(paths.runDir, 'pods', pod);
}

export function podLibDir(paths: MinipodPaths, pod: string): string {
  return path.join(paths.libDir, 'pods', pod);
}

export function podLogDir(paths: MinipodPaths, pod: string): string {
  return path.join(paths.logDir, pod);
}

export function imageCacheDir(paths: MinipodPaths): string {
  return path.join(paths.libDir, 'images');
}

// ---- one pod ----

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
