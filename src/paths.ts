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
