/**
 * config.json -> what the executor needs: the helper's ContainerPlan plus what the runtime does
 * around it (namespaces to enter when spawning, the cgroup and its writes, hooks). Pure: the
 * filesystem is reached only through the injected `statKind` and `compileSeccomp`, so every
 * section and every refusal is unit-tested without root.
 *
 * Unknown properties are ignored as config.md requires ("MUST NOT generate an error"); a
 * property of the spec that minipod-oci cannot honour is refused with its path. The
 * `minipod.io/...` annotations carry what a pod container's plan holds and OCI has no field for
 * (see from-plan.ts, the pod path's contract).
 */
import path from 'node:path';
import type { CgroupView, ContainerPlan, HookCommand, SeccompFilter } from '../../plan/types.js';
import { checkString, checkStrings, configError, isObject, unsupported } from './errors.js';
import { DEFAULT_DEV_SYMLINKS, type NamespaceRequest, translateDevices, translateNamespaces, translateSysctls } from './linux.js';
import { propagationFlags, type MountContext, translateMount } from './mounts.js';
import { capabilityName, translateProcess } from './process.js';
import { type CgroupSetting, resourceWrites } from './resources.js';
import type { OciHooks } from './types.js';
import { ANNOTATION, readPodAnnotations } from './annotations.js';
import { type IdMappings, translateIdMappings } from './idmap.js';

export interface TranslateInput {
  id: string;
  /** Absolute bundle directory. */
  bundle: string;
  cgroupVersion: 'v1' | 'v2';
  statKind: MountContext['statKind'];
  /** Compiles `linux.seccomp` (the OCI/Docker profile JSON) for the given bounding set. */
  compileSeccomp(profile: unknown, capabilities: readonly number[]): SeccompFilter;
}

export interface OciCgroupRequest {
  /** cgroupsPath made relative: `default/ctr` (below every hierarchy's mount). */
  path: string;
  writes: CgroupSetting[];
}

export interface OciCreatePlan {
  container: ContainerPlan;
  /** Namespaces the spawn enters: new ones are unshared, the others joined by path. */
  namespaces: NamespaceRequest[];
  /** The pod made and owns the cgroups: join these cgroup.procs, write nothing. */
  cgroupProcs?: string[];
  cgroup?: OciCgroupRequest;
  hooks: OciHooks;
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  rootfs: string;
  annotations: Record<string, string>;
  /** Fields accepted but not enforced, one line each, logged as warnings. */
  warnings: string[];
  /** A new user namespace (`user` without path): the maps the runtime writes for the init. */
  idMappings?: IdMappings;
}

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

function translateHooks(raw: unknown): OciHooks {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw configError('hooks', 'is not an object');
  const out: OciHooks = {};
  for (const kind of HOOK_KINDS) {
    const list = raw[kind];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw configError(`hooks.${kind}`, 'is not a list');
    out[kind] = list.map((h: unknown, i): HookCommand => {
      const at = `hooks.${kind}[${i}]`;
      if (!isObject(h)) throw configError(at, 'is not an object');
      const p = checkString(`${at}.path`, h.path);
      if (!path.isAbsolute(p)) throw configError(`${at}.path`, `"${p}" is not an absolute path`);
      const hook: HookCommand = { path: p };
      if (h.args !== undefined) hook.args = checkStrings(`${at}.args`, h.args);
      if (h.env !== undefined) hook.env = checkStrings(`${at}.env`, h.env);
      if (h.timeout !== undefined) {
        if (typeof h.timeout !== 'number' || !Number.isInteger(h.timeout) || h.timeout <= 0)
          throw configError(`${at}.timeout`, 'must be a positive integer (seconds)');
        hook.timeout = h.timeout;
      }
      return hook;
    });
  }
  return out;
}

function translateAnnotations(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw configError('annotations', 'is not an object');
  for (const [k, v] of Object.entries(raw)) {
    if (k === '') throw configError('annotations', 'a key is empty');
    checkString(`annotations.${k}`, v);
  }
  return raw as Record<string, string>;
}

function relativeCgroupPath(raw: unknown, id: string): string {
  if (raw === undefined || raw === null || raw === '') return `minipod-oci/${id}`;
  const p = checkString('linux.cgroupsPath', raw);
  if (p.includes(':'))
    throw unsupported('linux.cgroupsPath', `"${p}" is a systemd slice path (slice:prefix:name); minipod-oci uses cgroupfs paths`);
  const parts = p.split('/').filter(Boolean);
  if (parts.some((x) => x === '.' || x === '..')) throw configError('linux.cgroupsPath', `"${p}" leaves the cgroup tree`);
  if (parts.length < 2) throw unsupported('linux.cgroupsPath', `"${p}": minipod-oci needs a parent cgroup (as /parent/${parts[0] ?? id})`);
  return parts.join('/');
}

const CGROUP_MOUNT_POINT = '/sys/fs/cgroup';

export function translateConfig(config: unknown, input: TranslateInput): OciCreatePlan {
  if (!isObject(config)) throw configError('(top)', 'is not a JSON object');
  const ociVersion = checkString('ociVersion', config.ociVersion);
  if (!/^1\.\d+\.\d+/.test(ociVersion)) throw configError('ociVersion', `"${ociVersion}" is not a 1.x version of the runtime spec`);
  for (const key of ['solaris', 'windows', 'vm', 'zos']) if (config[key] !== undefined) throw unsupported(key, 'is for another platform');
  const annotations = translateAnnotations(config.annotations);
  const pod = readPodAnnotations(annotations);

  if (!isObject(config.root)) throw configError('root', 'is required');
  const rootfs = path.resolve(input.bundle, checkString('root.path', config.root.path));
  const rootReadOnly = config.root.readonly === true;

  const linux = config.linux === undefined ? {} : config.linux;
  if (!isObject(linux)) throw configError('linux', 'is not an object');
  for (const key of ['intelRdt', 'timeOffsets', 'memoryPolicy', 'netDevices']) {
    if (linux[key] !== undefined && linux[key] !== null) throw unsupported(`linux.${key}`);
  }
  if (linux.personality !== undefined && linux.personality !== null) {
    const p = linux.personality as { domain?: unknown; flags?: unknown };
    if (p.domain !== 'LINUX' || (Array.isArray(p.flags) && p.flags.length > 0))
      throw unsupported('linux.personality', 'only the default LINUX domain is supported');
  }
  if (linux.mountLabel !== undefined && linux.mountLabel !== '')
    throw unsupported('linux.mountLabel', 'SELinux mount labels are not supported by minipod-oci');

  const namespaces = translateNamespaces(linux.namespaces);
  const has = (t: string): NamespaceRequest | undefined => namespaces.find((n) => n.type === t);
  if (!has('mount')) throw unsupported('linux.namespaces', 'minipod-oci needs a mount namespace (type "mount") for the container');
  const newUts = has('uts') && !has('uts')!.path;
  for (const key of ['hostname', 'domainname']) {
    if (config[key] !== undefined && config[key] !== '' && !newUts)
      throw configError(key, 'needs a new uts namespace (linux.namespaces type "uts" without path)');
  }

  const proc = translateProcess(config.process);
  const userNs = has('user');
  const idMappings = translateIdMappings(
    linux,
    { create: userNs !== undefined && !userNs.path, joined: userNs?.path !== undefined },
    proc.spec.user,
  );
  const warnings: string[] = [];
  // With the pod's list of file binds, every other bind is a directory: stat only says it exists.
  const statKind: MountContext['statKind'] = pod.fileMounts ? (p) => (input.statKind(p) === undefined ? undefined : 'dir') : input.statKind;
  const mountCtx: MountContext = { bundle: input.bundle, statKind, fileDestinations: pod.fileMounts };
  const rawMounts = config.mounts === undefined ? [] : config.mounts;
  if (!Array.isArray(rawMounts)) throw configError('mounts', 'is not a list');
  let mounts = rawMounts.map((m: unknown, i) => translateMount(`mounts[${i}]`, m, mountCtx));

  let cgroupView: CgroupView | undefined = pod.cgroupView;
  const newCgroupNs = has('cgroup') !== undefined && !has('cgroup')!.path;
  if (has('cgroup')?.path) throw unsupported('linux.namespaces', 'joining a cgroup namespace by path is not supported by minipod-oci');
  if (!pod.cgroupView && newCgroupNs) {
    cgroupView = { namespace: true };
    // A cgroup2 mount shows the mounter's namespace root: on v2 it is made after the unshare.
    const cg = mounts.find((m) => m.destination === CGROUP_MOUNT_POINT && (m.fstype === 'cgroup' || m.fstype === 'cgroup2'));
    if (cg && input.cgroupVersion === 'v2') {
      cgroupView.cgroup2 = { readOnly: cg.readOnly };
      mounts = mounts.filter((m) => m !== cg);
    }
  }

  const spec = proc.spec;
  // The kernel raises an ambient capability only if it is permitted and inheritable; runc
  // ignores the failure, minipod-oci drops it with a warning.
  const caps = spec.capabilities;
  const lost = caps.ambient.filter((b) => !caps.permitted.includes(b) || !caps.inheritable.includes(b));
  if (lost.length > 0) {
    warnings.push(
      `process.capabilities.ambient: ${lost.map(capabilityName).join(', ')} not raised (an ambient capability must be permitted and inheritable)`,
    );
    caps.ambient = caps.ambient.filter((b) => !lost.includes(b));
  }
  if (pod.user) spec.user = pod.user;
  if (pod.runAsNonRoot) spec.runAsNonRoot = true;
  if (pod.seccomp) spec.seccomp = pod.seccomp;
  else if (linux.seccomp !== undefined && linux.seccomp !== null) {
    if (!isObject(linux.seccomp)) throw configError('linux.seccomp', 'is not an object');
    try {
      spec.seccomp = input.compileSeccomp(linux.seccomp, spec.capabilities.bounding);
    } catch (err) {
      throw configError('linux.seccomp', (err as Error).message);
    }
  }

  const container: ContainerPlan = {
    kind: 'container',
    id: pod.id ?? input.id,
    rootfs: pod.overlay
      ? { ...pod.overlay, mountPoint: rootfs, readOnly: rootReadOnly }
      : { lowerDirs: [], upperDir: '', workDir: '', mountPoint: rootfs, readOnly: rootReadOnly, bind: true },
    mounts,
    devices: translateDevices(linux.devices),
    symlinks: pod.symlinks ?? DEFAULT_DEV_SYMLINKS,
    maskedPaths: linux.maskedPaths === undefined ? [] : checkStrings('linux.maskedPaths', linux.maskedPaths),
    readonlyPaths: linux.readonlyPaths === undefined ? [] : checkStrings('linux.readonlyPaths', linux.readonlyPaths),
    process: spec,
    cgroupProcs: pod.cgroupProcs ?? [],
  };
  for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
    container[field].forEach((p, i) => {
      if (!path.posix.isAbsolute(p)) throw configError(`linux.${field}[${i}]`, `"${p}" is not an absolute path`);
    });
  }
  if (cgroupView) container.cgroupView = cgroupView;
  if (pod.inUserNamespace) container.inUserNamespace = true;
  if (idMappings) container.newUserNamespace = true;
  // runc's loopback: a new network namespace gets `lo` up (podman's pods talk over it).
  const network = has('network');
  if (network && !network.path) container.loopbackUp = true;
  if (linux.rootfsPropagation !== undefined && linux.rootfsPropagation !== '') {
    container.rootfs.propagation = propagationFlags(
      'linux.rootfsPropagation',
      checkString('linux.rootfsPropagation', linux.rootfsPropagation),
    );
  }
  if (typeof config.hostname === 'string' && config.hostname !== '') container.hostname = config.hostname;
  else if (config.hostname !== undefined && typeof config.hostname !== 'string') throw configError('hostname', 'is not a string');
  if (typeof config.domainname === 'string' && config.domainname !== '') container.domainname = config.domainname;
  else if (config.domainname !== undefined && typeof config.domainname !== 'string') throw configError('domainname', 'is not a string');
  const sysctls = translateSysctls(
    linux.sysctl,
    namespaces.filter((n) => !n.path || n.type !== 'mount'),
  );
  if (sysctls.length > 0) container.sysctls = sysctls;

  const plan: OciCreatePlan = {
    container,
    namespaces,
    hooks: translateHooks(config.hooks),
    terminal: proc.terminal,
    rootfs,
    annotations,
    warnings,
  };
  if (proc.consoleSize) plan.consoleSize = proc.consoleSize;
  if (idMappings) plan.idMappings = idMappings;
  if (pod.cgroupProcs) {
    if (linux.resources !== undefined && linux.resources !== null && Object.keys(linux.resources).length > 0) {
      throw configError('linux.resources', `is set with ${ANNOTATION.cgroupProcs}: the pod owns that cgroup and its limits`);
    }
    plan.cgroupProcs = pod.cgroupProcs;
  } else {
    plan.cgroup = {
      path: relativeCgroupPath(linux.cgroupsPath, input.id),
      writes: resourceWrites(linux.resources, input.cgroupVersion, warnings),
    };
  }
  return plan;
}
