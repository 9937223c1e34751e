/**
 * Pure planning of one container: PodSpec + resolved image + host directories -> ContainerPlan.
 * No I/O here; src/pod prepares the directories and src/process executes the plan.
 */
import { CAPABILITIES, DEFAULT_CAPABILITIES, capabilityBit } from '../../native-bindings/constants.js';
import type { ContainerSpec, PodSpec, Volume } from '../manifest/types.js';
import { type CgroupViewInput, planCgroupView } from './cgroup-view.js';
import type { ContainerPlan, DeviceNode, LsmLabel, MountStep, ProcessSpec, SeccompFilter } from './types.js';
import { type DownwardValues, resolveDownward } from './downward.js';
import { envFileKey, type EnvFiles } from './env-files.js';
import { UserError } from '../errors.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's and podman's defaults: kernel interfaces a container must not read or write. */
export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const S_IFCHR = 0o020000;
const DEVICES: DeviceNode[] = [
  { path: '/dev/null', major: 1, minor: 3, mode: S_IFCHR | 0o666 },
  { path: '/dev/zero', major: 1, minor: 5, mode: S_IFCHR | 0o666 },
  { path: '/dev/full', major: 1, minor: 7, mode: S_IFCHR | 0o666 },
  { path: '/dev/random', major: 1, minor: 8, mode: S_IFCHR | 0o666 },
  { path: '/dev/urandom', major: 1, minor: 9, mode: S_IFCHR | 0o666 },
  { path: '/dev/tty', major: 5, minor: 0, mode: S_IFCHR | 0o666 },
];
const DEV_SYMLINKS = [
  { path: '/dev/fd', target: '/proc/self/fd' },
  { path: '/dev/stdin', target: '/proc/self/fd/0' },
  { path: '/dev/stdout', target: '/proc/self/fd/1' },
  { path: '/dev/stderr', target: '/proc/self/fd/2' },
  { path: '/dev/ptmx', target: 'pts/ptmx' },
];

export interface ImageConfigLike {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

/** Host paths the supervisor prepared for this container. */
export interface ContainerHostDirs {
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  mountPoint: string;
  etcHosts: string;
  etcHostname: string;
  resolvConf: string;
  /** The pod's shared /dev/shm (a tmpfs on the host). */
  shm: string;
  /** Host path of each volume, by name. */
  volumes: Record<string, string>;
  /** Host path of each `name/subPath`, resolved inside its volume by the caller. */
  subPaths: Record<string, string>;
}

/**
 * Kubernetes' `$(VAR)` expansion: a reference to a defined variable is replaced, `$$` is a
 * literal `$`, and anything else (an undefined name, a lone `$`) stays as written.
 */
export function expandVars(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return vars.has(name!) ? vars.get(name!)! : match;
  });
}

/**
 * Kubernetes' rule: `command` replaces Entrypoint; `args` replaces Cmd; command alone drops
 * Cmd. `$(VAR)` in the manifest's command and args expands from the container's environment.
 */
export function containerArgs(container: ContainerSpec, image: ImageConfigLike, env: ReadonlyMap<string, string> = new Map()): string[] {
  const entrypoint = container.command?.map((a) => expandVars(a, env)) ?? image.entrypoint ?? [];
  const cmd = container.args?.map((a) => expandVars(a, env)) ?? (container.command ? [] : (image.cmd ?? []));
  return [...entrypoint, ...cmd];
}

/**
 * Later entries win by name, so the order is: defaults, image, HOSTNAME, container env. A
 * container env value may refer to variables defined before it with `$(VAR)`.
 */
export function containerEnvMap(
  pod: PodSpec,
  container: ContainerSpec,
  image: ImageConfigLike,
  downward?: DownwardValues,
  envFiles?: EnvFiles,
): Map<string, string> {
  const byName = new Map<string, string>();
  const put = (entry: string): void => {
    const eq = entry.indexOf('=');
    if (eq > 0) byName.set(entry.slice(0, eq), entry.slice(eq + 1));
  };
  put(`PATH=${DEFAULT_PATH}`);
  for (const e of image.env ?? []) put(e);
  put(`HOSTNAME=${pod.hostname}`);
  if (container.tty) put('TERM=xterm');
  for (const e of container.env) {
    if (e.fromFile) {
      const value = envFiles?.get(envFileKey(e.fromFile.volumeName, e.fromFile.path))?.get(e.fromFile.key);
      if (value !== undefined) byName.set(e.name, value);
      else if (!e.fromFile.optional) {
        // Kubernetes: the container does not start (CreateContainerConfigError).
        const missing = envFiles?.get(envFileKey(e.fromFile.volumeName, e.fromFile.path))
          ? `has no key "${e.fromFile.key}"`
          : 'does not exist';
        throw new UserError(
          `env ${e.name}: valueFrom.fileKeyRef: ${e.fromFile.path} in volume ${e.fromFile.volumeName} ${missing} (set optional: true to start without it)`,
          { code: 'env-file.missing' },
        );
      }
    } else if (e.from) {
      if (!downward) throw new Error(`env ${e.name}: the downward API needs the pod's runtime values`);
      byName.set(e.name, resolveDownward(e.from, pod, downward));
    } else {
      // Values from ConfigMaps and Secrets are not expanded (kubelet expands only `value`).
      byName.set(e.name, e.literal ? e.value : expandVars(e.value, byName));
    }
  }
  return byName;
}

export function containerEnv(
  pod: PodSpec,
  container: ContainerSpec,
  image: ImageConfigLike,
  downward?: DownwardValues,
  envFiles?: EnvFiles,
): string[] {
  return [...containerEnvMap(pod, container, image, downward, envFiles)].map(([k, v]) => `${k}=${v}`);
}

/**
 * `hostBounding`: the capabilities the runtime itself holds (its bounding set). "All
 * capabilities" (privileged, `add: [ALL]`) means all of those, as runc and podman read it: a host
 * whose own bounding set lacks one (CAP_SYS_RESOURCE on some CI machines) cannot give it, and
 * capset would refuse the whole set. Capabilities added by name are kept, so the helper's
 * capset names the one the host lacks.
 */
export function containerCapabilities(container: ContainerSpec, hostBounding?: readonly number[]): number[] {
  const sc = container.securityContext;
  const all = CAPABILITIES.map((_, bit) => bit).filter((bit) => !hostBounding || hostBounding.includes(bit));
  let set = new Set<number>(sc.privileged ? all : DEFAULT_CAPABILITIES.map(capabilityBit));
  if (sc.capabilities.drop.includes('ALL')) set = new Set();
  if (sc.capabilities.add.includes('ALL')) set = new Set(all);
  for (const name of sc.capabilities.add) if (name !== 'ALL') set.add(capabilityBit(name));
  for (const name of sc.capabilities.drop) if (name !== 'ALL') set.delete(capabilityBit(name));
  return [...set].sort((a, b) => a - b);
}

function imageUser(user: string | undefined): ProcessSpec['user'] {
  if (!user) return {};
  const [u, g] = user.split(':');
  const out: ProcessSpec['user'] = {};
  if (u && /^\d+$/.test(u)) out.uid = Number(u);
  else if (u) out.name = u;
  if (g && /^\d+$/.test(g)) out.gid = Number(g);
  return out;
}

/**
 * The container's identity. As kubelet builds it for the runtime: the pod's supplementalGroups
 * and then its fsGroup are extra groups of every container (so each can use the volumes fsGroup
 * made group-owned), on top of the image's /etc/group memberships unless the policy is Strict.
 */
export function containerUser(container: ContainerSpec, image: ImageConfigLike, pod?: PodSpec): ProcessSpec['user'] {
  const sc = container.securityContext;
  const fromImage = imageUser(image.user);
  const user: ProcessSpec['user'] = { ...fromImage };
  if (sc.runAsUser !== undefined) {
    user.uid = sc.runAsUser;
    delete user.name;
  }
  if (sc.runAsGroup !== undefined) user.gid = sc.runAsGroup;
  const podSc = pod?.securityContext;
  if (podSc) {
    const groups = [...podSc.supplementalGroups, ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])];
    if (groups.length > 0) user.groups = [...new Set(groups)];
    if (podSc.supplementalGroupsPolicy === 'Strict') user.strictGroups = true;
  }
  return user;
}

export function processSpec(
  pod: PodSpec,
  container: ContainerSpec,
  image: ImageConfigLike,
  downward?: DownwardValues,
  hostBounding?: readonly number[],
  envFiles?: EnvFiles,
): ProcessSpec {
  const caps = containerCapabilities(container, hostBounding);
  const user = containerUser(container, image, pod);
  // A non-root user keeps capabilities across execve only as ambient ones: give it the ones
  // the manifest added explicitly, as podman does.
  const nonRoot = user.uid !== undefined ? user.uid !== 0 : user.name !== undefined && user.name !== 'root';
  const added = new Set(container.securityContext.capabilities.add.filter((c) => c !== 'ALL').map(capabilityBit));
  const env = containerEnvMap(pod, container, image, downward, envFiles);
  return {
    args: containerArgs(container, image, env),
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cwd: container.workingDir ?? (image.workingDir || '/'),
    user,
    capabilities: {
      bounding: caps,
      effective: caps,
      permitted: caps,
      inheritable: caps,
      ambient: nonRoot ? caps.filter((c) => added.has(c)) : [],
    },
    noNewPrivileges: !container.securityContext.allowPrivilegeEscalation,
    runAsNonRoot: container.securityContext.runAsNonRoot,
  };
}

const NOSUID_NODEV_NOEXEC = ['NOSUID', 'NODEV', 'NOEXEC'] as const;

function baseMounts(pod: PodSpec, dirs: ContainerHostDirs, privileged: boolean): MountStep[] {
  const m = (s: Omit<MountStep, 'readOnly' | 'destinationKind'> & Partial<MountStep>): MountStep => ({
    readOnly: false,
    destinationKind: 'dir',
    ...s,
  });
  return [
    m({ source: 'proc', destination: '/proc', fstype: 'proc', flags: [...NOSUID_NODEV_NOEXEC] }),
    // nodev: a node made with mknod (CAP_MKNOD is a default capability) cannot be opened; the
    // devices the container gets are binds of the host's nodes, which keep their own mount.
    m({
      source: 'tmpfs',
      destination: '/dev',
      fstype: 'tmpfs',
      flags: privileged ? ['NOSUID', 'STRICTATIME'] : ['NOSUID', 'NODEV', 'STRICTATIME'],
      data: 'mode=755,size=65536k',
    }),
    m({
      source: 'devpts',
      destination: '/dev/pts',
      fstype: 'devpts',
      flags: ['NOSUID', 'NOEXEC'],
      data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
    }),
    m({ source: dirs.shm, destination: '/dev/shm', fstype: 'bind', flags: [...NOSUID_NODEV_NOEXEC] }),
    m({ source: 'mqueue', destination: '/dev/mqueue', fstype: 'mqueue', flags: [...NOSUID_NODEV_NOEXEC] }),
    m({ source: 'sysfs', destination: '/sys', fstype: 'sysfs', flags: [...NOSUID_NODEV_NOEXEC], readOnly: !privileged }),
    m({ source: dirs.etcHosts, destination: '/etc/hosts', fstype: 'bind', flags: [], destinationKind: 'file' }),
    m({ source: dirs.etcHostname, destination: '/etc/hostname', fstype: 'bind', flags: [], destinationKind: 'file' }),
    m({ source: dirs.resolvConf, destination: '/etc/resolv.conf', fstype: 'bind', flags: [], destinationKind: 'file' }),
  ];
}

/**
 * What the volume itself imposes on every mount of it, as kubelet does: an image volume is
 * read-only and noexec, a claim with `readOnly: true` and the runtime's file volumes
 * (configMap, secret, downwardAPI, projected) are read-only whatever the mount says.
 */
export function volumeMountPolicy(volume: Volume | undefined, privileged = false): { readOnly: boolean; flags: MountStep['flags'] } {
  if (volume?.source.kind === 'image') return { readOnly: true, flags: ['NOSUID', 'NODEV', 'NOEXEC'] };
  // nodev, where runc's devices cgroup would refuse the open instead: a container may mknod a
  // block device in a writable volume (CAP_MKNOD) but never open it. Not for a privileged
  // container (it has every device anyway), nor for a hostPath under /dev or naming a device:
  // that is how a pod is given a device (/dev/fuse, /dev/kvm).
  const nodev: MountStep['flags'] = privileged || (volume && hostDeviceSource(volume)) ? [] : ['NODEV'];
  if (volume?.source.kind === 'persistentVolumeClaim' && volume.source.readOnly) return { readOnly: true, flags: nodev };
  // configMap, secret, downwardAPI and projected volumes: the runtime's files, read-only.
  if (volume?.source.kind === 'files') return { readOnly: true, flags: nodev };
  return { readOnly: false, flags: nodev };
}

function hostDeviceSource(volume: Volume): boolean {
  const { source } = volume;
  if (source.kind !== 'hostPath') return false;
  return source.type === 'CharDevice' || source.type === 'BlockDevice' || source.path === '/dev' || source.path.startsWith('/dev/');
}

/**
 * The container's device nodes: the default set, or for a privileged container every device of
 * the host as well (`hostDevices`, src/rootfs/host-devices.ts), as runc gives it.
 */
export function containerDevices(privileged: boolean, hostDevices: readonly DeviceNode[] = []): DeviceNode[] {
  if (!privileged) return DEVICES;
  const byPath = new Map(DEVICES.map((d) => [d.path, d]));
  for (const d of hostDevices) byPath.set(d.path, d);
  // /dev/ptmx stays the link to the container's own devpts.
  byPath.delete('/dev/ptmx');
  return [...byPath.values()];
}

/** Volume mounts, parents before children so `/data` does not hide `/data/cache`. */
export function volumeMountSteps(
  container: ContainerSpec,
  dirs: ContainerHostDirs,
  isFile: (p: string) => boolean,
  volumes: readonly Volume[] = [],
): MountStep[] {
  return [...container.volumeMounts]
    .sort((a, b) => a.mountPath.split('/').length - b.mountPath.split('/').length)
    .map((vm) => {
      const base = dirs.volumes[vm.name];
      if (base === undefined) throw new Error(`volume ${vm.name} was not prepared`);
      const source = vm.subPath ? dirs.subPaths[`${vm.name}/${vm.subPath}`] : base;
      if (source === undefined) throw new Error(`subPath ${vm.subPath} of volume ${vm.name} was not prepared`);
      const volume = volumes.find((v) => v.name === vm.name);
      const policy = volumeMountPolicy(volume, container.securityContext.privileged);
      // emptyDir and gitRepo are the pod's root's already (src/userns/pod.ts chowns them).
      const idmap = volume !== undefined && volume.source.kind !== 'emptyDir' && volume.source.kind !== 'gitRepo';
      return {
        source,
        destination: vm.mountPath,
        fstype: 'bind',
        flags: policy.flags,
        destinationKind: isFile(source) ? 'file' : 'dir',
        readOnly: vm.readOnly || policy.readOnly,
        ...(idmap ? { idmap } : {}),
      } satisfies MountStep;
    });
}

export interface PlanContainerInput {
  pod: PodSpec;
  container: ContainerSpec;
  image: ImageConfigLike;
  dirs: ContainerHostDirs;
  cgroupProcs: string[];
  /** Whether a volume source is a regular file (for the bind target), decided by the caller. */
  isFile: (hostPath: string) => boolean;
  /** The compiled seccomp filter (src/seccomp/plan.ts); undefined for none. */
  seccomp?: SeccompFilter;
  /** AppArmor/SELinux labels (src/lsm/plan.ts). */
  lsmLabels?: LsmLabel[];
  /** The host's cgroup layout and the container's cgroup directories: its /sys/fs/cgroup view. */
  cgroups?: Omit<CgroupViewInput, 'privileged'>;
  /** The pod's uid, IPs and host, for env from the downward API (known after CNI ADD). */
  downward?: DownwardValues;
  /** The runtime's own bounding set: what "all capabilities" can mean on this host. */
  hostCapabilities?: readonly number[];
  /** The host's device nodes: a privileged container gets them all. */
  hostDevices?: readonly DeviceNode[];
  /** The env files the container's fileKeyRefs name, read when it starts (src/volumes/env-file.ts). */
  envFiles?: EnvFiles;
}

export function planContainer(input: PlanContainerInput): ContainerPlan {
  const { pod, container, dirs } = input;
  const privileged = container.securityContext.privileged;
  const process = processSpec(pod, container, input.image, input.downward, input.hostCapabilities, input.envFiles);
  if (input.seccomp) process.seccomp = input.seccomp;
  if (input.lsmLabels?.length) process.lsmLabels = input.lsmLabels;
  // procMount Unmasked (hostUsers: false only, see validate.ts): /proc as the kernel shows it.
  const maskProc = !privileged && container.securityContext.procMount !== 'Unmasked';
  const cgroupView = input.cgroups ? planCgroupView({ ...input.cgroups, privileged }) : undefined;
  return {
    kind: 'container',
    id: `${pod.name}/${container.name}`,
    rootfs: {
      lowerDirs: dirs.lowerDirs,
      upperDir: dirs.upperDir,
      workDir: dirs.workDir,
      mountPoint: dirs.mountPoint,
      readOnly: container.securityContext.readOnlyRootFilesystem,
    },
    mounts: [
      ...baseMounts(pod, dirs, privileged),
      ...(cgroupView?.mounts ?? []),
      ...volumeMountSteps(container, dirs, input.isFile, pod.volumes),
    ],
    devices: containerDevices(privileged, input.hostDevices),
    symlinks: DEV_SYMLINKS,
    maskedPaths: maskProc ? MASKED_PATHS : privileged ? [] : MASKED_PATHS.filter((p) => !p.startsWith('/proc/')),
    readonlyPaths: [...(maskProc ? READONLY_PATHS : []), ...(cgroupView?.readonlyPaths ?? [])],
    process,
    cgroupProcs: input.cgroupProcs,
    ...(cgroupView ? { cgroupView: cgroupView.view } : {}),
  };
}
