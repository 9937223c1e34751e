/**
 * Where minipod keeps things on the host: every host path minipod makes is built here and
 * nowhere else, mirroring the table "On the host" in docs/architecture.md (and the image
 * store's in docs/images.md); test/unit/paths.test.ts checks the docs against this module.
 *
 * Every root can be moved with an environment variable so tests can run side by side and unit
 * tests can point at a temp dir:
 * - run dir (tmpfs, gone after reboot): the daemon's socket, per-pod state, locks, reservations.
 * - lib dir (disk): unpacked images, container upper layers, emptyDir and named volumes.
 * - log dir: CRI-format container logs.
 * - the CNI config dir: the network minipod writes once and the user may edit.
 * A pod's cgroup directories are not here: the cgroup managers build them from `cgroupRoot` and
 * `cgroupParent`, one per hierarchy on v1.
 */
import { createHash } from 'node:crypto';
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

// ---- the run dir ----

export interface DaemonFiles {
  /** The unix socket clients connect to (0600). */
  socket: string;
  /** flock held by the daemon for its whole life: one daemon per run dir. */
  lock: string;
  pid: string;
  /** stdout and stderr of a daemon started by a client. */
  log: string;
  /** The daemon's code file, its size and mtime at its start: a client that sees it changed asks for a handover. */
  code: string;
}

export function daemonFiles(paths: MinipodPaths): DaemonFiles {
  const file = (ext: string): string => path.join(paths.runDir, `daemon.${ext}`);
  return { socket: file('sock'), lock: file('lock'), pid: file('pid'), log: file('log'), code: file('code') };
}

/** Holds one folder per pod, the pod's record: listing it lists the pods. */
export function podsRunDir(paths: MinipodPaths): string {
  return path.join(paths.runDir, 'pods');
}

export function podRunDir(paths: MinipodPaths, pod: string): string {
  return path.join(podsRunDir(paths), pod);
}

export function podStateFile(paths: MinipodPaths, pod: string): string {
  return path.join(podRunDir(paths, pod), 'state.json');
}

/** The validated PodSpec the pod was started from: `restart` starts it again from this. */
export function podSpecFile(paths: MinipodPaths, pod: string): string {
  return path.join(podRunDir(paths, pod), 'spec.json');
}

/** flock that serialises commands changing one pod (stop, rm, restart, gc's teardown). */
export function podLockFile(paths: MinipodPaths, pod: string): string {
  return path.join(paths.runDir, 'locks', `${pod}.lock`);
}

export interface NetworkFiles {
  dir: string;
  /** flock guarding everything below and the host's bridge and chains. */
  lock: string;
  /** hostPort reservations of every pod. */
  ports: string;
  /** The host before the first pod (nft tables, ip_forward), restored after the last. */
  host: string;
  /** Per-pod CNI state, `<pod id>.json`: what DEL needs, even after a crash. */
  podsDir: string;
}

export function networkFiles(paths: MinipodPaths): NetworkFiles {
  const dir = path.join(paths.runDir, 'network');
  return {
    dir,
    lock: path.join(dir, 'lock'),
    ports: path.join(dir, 'ports.json'),
    host: path.join(dir, 'host.json'),
    podsDir: path.join(dir, 'pods'),
  };
}

export function podNetworkStateFile(paths: MinipodPaths, podId: string): string {
  return path.join(networkFiles(paths).podsDir, `${encodeURIComponent(podId)}.json`);
}

/** Where the OCI runtime keeps the state of pod containers held by conmon (`--root`). */
export function podOciRoot(paths: MinipodPaths): string {
  return path.join(paths.runDir, 'oci');
}

/**
 * conmons started ahead of need for the warm pool's sandboxes (docs/architecture.md, "Containers
 * that outlive the daemon"): one bundle per entry, named by its OCI id, with config.json (the
 * stub the runtime's create waits on, then the container's), conmon's pid files, `pod` (the pod
 * that claimed it) and `exits/` (conmon's exit file).
 */
export function heldPoolDir(paths: MinipodPaths): string {
  return path.join(paths.runDir, 'conmon-pool');
}

/**
 * A pooled conmon's log file until a container claims it: renamed to the container's log path
 * then (conmon keeps its fd), so it must be on the same filesystem as the pods' log dirs.
 */
export function heldPoolLogDir(paths: MinipodPaths): string {
  return path.join(paths.logDir, '.conmon-pool');
}

/** conmon's attach sockets: a short directory, as unix socket paths are limited to 108 bytes. */
export function attachSocketDir(paths: MinipodPaths): string {
  return path.join(paths.runDir, 'attach');
}

export interface UsernsFiles {
  /** The host id ranges given to pods with their own user namespace. */
  ranges: string;
  lock: string;
}

export function usernsFiles(paths: MinipodPaths): UsernsFiles {
  const dir = path.join(paths.runDir, 'userns');
  return { ranges: path.join(dir, 'ranges.json'), lock: path.join(dir, 'ranges.lock') };
}

// ---- the lib dir ----

/** Holds one folder per pod: its containers' upper layers and its emptyDir volumes. */
export function podsLibDir(paths: MinipodPaths): string {
  return path.join(paths.libDir, 'pods');
}

export function podLibDir(paths: MinipodPaths, pod: string): string {
  return path.join(podsLibDir(paths), pod);
}

export function imageCacheDir(paths: MinipodPaths): string {
  return path.join(paths.libDir, 'images');
}

/** The image store's folders (docs/images.md); every name below them is a verified hex digest. */
export interface StoreDirs {
  root: string;
  /** Verified blobs: manifests, configs (compressed layers are deleted once unpacked). */
  blobs: string;
  /** Unpacked layers, keyed by diff id: `<hex>/rootfs` + `entry.json` (images/store/publish.ts). */
  layers: string;
  /** Short symlinks to layer roots, so overlay's one-page mount options fit many layers. */
  links: string;
  /** Image records, keyed by config digest (the image id). */
  records: string;
  /** Names (`docker.io/library/nginx:1.25`) -> image id, one small file per name. */
  refs: string;
  /** Archive files already imported, by the file's sha256 (+ the selected tag). */
  sources: string;
  /** Images a live process resolved and is about to use: `<pid>[.<pod>]/<id hex>`. */
  pins: string;
  /** Downloads in progress (`<hex>.partial`, kept for resuming) and archive extractions. */
  tmp: string;
  /** Rootfs tarballs unpacked once, keyed by the tarball's sha256. */
  rootfs: string;
  /** flock(2) target: shared while importing, exclusive for rmi/prune. */
  lock: string;
}

export function storeDirs(paths: MinipodPaths): StoreDirs {
  const root = imageCacheDir(paths);
  return {
    root,
    blobs: path.join(root, 'blobs', 'sha256'),
    layers: path.join(root, 'layers', 'sha256'),
    links: path.join(root, 'l'),
    records: path.join(root, 'records', 'sha256'),
    refs: path.join(root, 'refs'),
    sources: path.join(root, 'sources', 'sha256'),
    pins: path.join(root, 'pins'),
    tmp: path.join(root, 'tmp'),
    rootfs: path.join(root, 'rootfs', 'sha256'),
    lock: path.join(root, '.lock'),
  };
}

export function blobPath(dirs: StoreDirs, hex: string): string {
  return path.join(dirs.blobs, hex);
}

/** A name's file is named by the name's sha256, so no name from an image ever becomes a path. */
export function refPath(dirs: StoreDirs, name: string): string {
  return path.join(dirs.refs, `${createHash('sha256').update(name).digest('hex')}.json`);
}

export function recordPath(dirs: StoreDirs, hex: string): string {
  return path.join(dirs.records, `${hex}.json`);
}

/** Named volumes (podman's layout): `<name>/_data` is mounted, `<name>/volume.json` says where it came from. */
export function volumesRoot(paths: MinipodPaths): string {
  return path.join(paths.libDir, 'volumes');
}

export function volumeDir(paths: MinipodPaths, name: string): string {
  return path.join(volumesRoot(paths), name);
}

/** What a volume's folder holds (also its temp folder, before the rename that publishes it). */
export function volumeFiles(dir: string): { data: string; record: string } {
  return { data: path.join(dir, '_data'), record: path.join(dir, 'volume.json') };
}

/** What containers mount. */
export function volumeDataDir(paths: MinipodPaths, name: string): string {
  return volumeFiles(volumeDir(paths, name)).data;
}

export function volumeRecordFile(paths: MinipodPaths, name: string): string {
  return volumeFiles(volumeDir(paths, name)).record;
}

/** flock: creation, removal and the in-use check, one at a time across processes. */
export function volumesLockFile(paths: MinipodPaths): string {
  return path.join(volumesRoot(paths), '.lock');
}

/** host-local keeps its reservations in `<dataDir>/<network name>/`; ours, not /var/lib/cni. */
export function ipamDataDir(paths: MinipodPaths): string {
  return path.join(paths.libDir, 'cni', 'networks');
}

/** Directory Localhost seccomp profiles are relative to (kubelet's `<root>/seccomp`). */
export function seccompProfileDir(paths: MinipodPaths): string {
  return path.join(paths.libDir, 'seccomp');
}

// ---- the log dir ----

export function podLogDir(paths: MinipodPaths, pod: string): string {
  return path.join(paths.logDir, pod);
}

// ---- the OCI runtime ----

/** `minipod-oci`'s default `--root` (runc's is /run/runc): podman and containerd pass their own. */
export function ociRuntimeRoot(): string {
  return '/run/minipod-oci';
}

// ---- configuration ----

/** The default network, written once and then only read, so a user can edit it. */
export function cniConflistPath(paths: MinipodPaths): string {
  return path.join(paths.cniConfDir, 'minipod.conflist');
}

/** Registries to reach over plain HTTP; moved with $MINIPOD_REGISTRIES_CONF. */
export function registriesConfPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINIPOD_REGISTRIES_CONF ?? '/etc/minipod/registries.json';
}

// ---- one pod ----

export interface PodLayout {
  runDir: string;
  libDir: string;
  logDir: string;
  stateFile: string;
  specFile: string;
  /** Empty dir the pod init's tmpfs root is mounted on (in the init's own mount namespace). */
  initRoot: string;
  /** tmpfs shared by every container as /dev/shm. */
  shm: string;
  etcHosts: string;
  etcHostname: string;
  resolvConf: string;
  volumesDir: string;
  /** minipod's messages about a detached pod (an attached one's go to its client). */
  eventsFile: string;
  /** What a new daemon needs to adopt the pod (resolved images, volumes). */
  adoptionFile: string;
}

export function podLayout(paths: MinipodPaths, pod: string): PodLayout {
  const runDir = podRunDir(paths, pod);
  const libDir = podLibDir(paths, pod);
  const logDir = podLogDir(paths, pod);
  return {
    runDir,
    libDir,
    logDir,
    stateFile: podStateFile(paths, pod),
    specFile: podSpecFile(paths, pod),
    initRoot: path.join(runDir, 'init-root'),
    shm: path.join(runDir, 'shm'),
    etcHosts: path.join(runDir, 'hosts'),
    etcHostname: path.join(runDir, 'hostname'),
    resolvConf: path.join(runDir, 'resolv.conf'),
    volumesDir: path.join(libDir, 'volumes'),
    eventsFile: path.join(logDir, 'minipod.events'),
    adoptionFile: path.join(runDir, 'adoption.json'),
  };
}

/**
 * The OCI bundle of a container held by conmon: on the pod's tmpfs of process records, as its
 * config.json holds the environment, Secret values included.
 */
export function heldBundleDir(podRunDir: string, container: string): string {
  return path.join(podRunDir, 'containers', 'bundles', container);
}

/** Where conmon writes the exit status of the pod's held containers, one file per container id. */
export function heldExitDir(podRunDir: string): string {
  return path.join(podRunDir, 'exits');
}

/** An emptyDir, a configMap/secret/downwardAPI/projected volume, or an image volume's overlay. */
export function podVolumeDir(volumesDir: string, volume: string): string {
  return path.join(volumesDir, volume);
}

export interface ContainerLayout {
  /** The container's ProcessSpec and cgroup.procs files as last started, for exec and probes. */
  processFile: string;
  upperDir: string;
  workDir: string;
  mountPoint: string;
  logPath: string;
  /** The log of the run before the last restart (kubelet keeps one). */
  previousLogPath: string;
}

export function containerLayout(layout: PodLayout, container: string): ContainerLayout {
  const dir = path.join(layout.libDir, 'containers', container);
  return {
    processFile: path.join(layout.runDir, 'containers', `${container}.json`),
    upperDir: path.join(dir, 'upper'),
    workDir: path.join(dir, 'work'),
    mountPoint: path.join(dir, 'rootfs'),
    logPath: path.join(layout.logDir, `${container}.log`),
    previousLogPath: path.join(layout.logDir, `${container}.previous.log`),
  };
}

/** Where a container with its own user namespace attaches its idmapped layers: beside its rootfs. */
export function idmappedLayersDir(mountPoint: string): string {
  return path.join(path.dirname(mountPoint), 'idmapped');
}
