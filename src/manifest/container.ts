/**
 * Decoding of one container (app or init) and everything inside it: env, mounts, resources,
 * securityContext, ports, probes, lifecycle. Field-local rules live here; rules that relate
 * fields to each other or to the rest of the pod are checks in validate.ts.
 */
import type {
  AppArmorProfileRef,
  Capabilities,
  ContainerPort,
  ContainerSpec,
  ImagePullPolicy,
  Lifecycle,
  PortProtocol,
  Probe,
  ResourceList,
  Resources,
  SeccompProfileRef,
  SecurityContext,
  SeLinuxOptionsRef,
  VolumeMount,
} from './types.js';
import { decodeSeccompProfile, SECCOMP_PROFILE_SHAPE } from './seccomp-profile.js';
import { APPARMOR_PROFILE_SHAPE, decodeAppArmorProfile, decodeSeLinuxOptions, SELINUX_OPTIONS_SHAPE } from './lsm-fields.js';
import { childPath, indexPath, Issues, quote, typeName } from './issues.js';
import { Fields, isObject, type ObjectShape } from './reader.js';
import { decodeEnv, decodeEnvFrom } from './env.js';
import type { ObjectLookup } from './objects/types.js';
import { decodeLifecycle, decodeProbe, LIFECYCLE_SHAPE, PROBE_SHAPE, portResolver } from './probes.js';
import { parseBytes, parseCpuMilli, QuantityError } from './quantity.js';
import { dns1123LabelProblem, isIpAddress, normaliseAbsolutePath, normaliseCapability, portNameProblem } from './syntax.js';

export const LIMITS = {
  env: 1024,
  volumeMounts: 256,
  ports: 256,
  /** Entries of command, args, exec.command. */
  argv: 4096,
  capabilities: 64,
  httpHeaders: 64,
} as const;

export const CONTAINER_SHAPE: ObjectShape = {
  type: 'Container',
  known: [
    'name',
    'image',
    'imagePullPolicy',
    'command',
    'args',
    'env',
    'envFrom',
    'workingDir',
    'volumeMounts',
    'resources',
    'securityContext',
    'ports',
    'lifecycle',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'stdin',
    'tty',
    'restartPolicy',
  ],
  clusterOnly: {
    resizePolicy: 'has no effect: minipod does not resize a running container (there is no API to ask it to)',
  },
};

export const MOUNT_SHAPE: ObjectShape = { type: 'VolumeMount', known: ['name', 'mountPath', 'readOnly', 'subPath'] };
export const RESOURCES_SHAPE: ObjectShape = { type: 'ResourceRequirements', known: ['limits', 'requests'] };
export const SECURITY_SHAPE: ObjectShape = {
  type: 'SecurityContext',
  known: [
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'readOnlyRootFilesystem',
    'allowPrivilegeEscalation',
    'privileged',
    'capabilities',
    'seccompProfile',
    'procMount',
    'appArmorProfile',
    'seLinuxOptions',
  ],
};
export const CAPABILITIES_SHAPE: ObjectShape = { type: 'Capabilities', known: ['add', 'drop'] };
export const PORT_SHAPE: ObjectShape = { type: 'ContainerPort', known: ['name', 'containerPort', 'hostPort', 'hostIP', 'protocol'] };
/** Highest uid/gid: 2^32-1 is (uid_t)-1, "no change" to the kernel. */
const MAX_ID = 2 ** 32 - 2;

/** Pod-level securityContext fields that apply to every container that does not set its own. */
export interface PodSecurityDefaults {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  seccompProfile?: SeccompProfileRef;
  appArmorProfile?: AppArmorProfileRef;
  seLinuxOptions?: SeLinuxOptionsRef;
  /** From `container.apparmor.security.beta.kubernetes.io/<name>` annotations, by container. */
  appArmorAnnotations?: ReadonlyMap<string, AppArmorProfileRef>;
}

export interface ContainerContext {
  issues: Issues;
  init: boolean;
  podSecurity: PodSecurityDefaults;
  /** The ConfigMaps and Secrets env values come from. */
  objects: ObjectLookup;
  namespace?: string;
  /** The pod's volume names and its emptyDirs' (for env fileKeyRef). */
  volumes?: { all: ReadonlySet<string>; emptyDirs: ReadonlySet<string> };
}

export function decodeContainer(value: unknown, path: string, ctx: ContainerContext): ContainerSpec | undefined {
  const { issues } = ctx;
  const f = Fields.open(issues, path, value, CONTAINER_SHAPE);
  if (!f) return undefined;

  const name = f.requiredString('name', 253);
  if (name !== undefined) {
    const p = dns1123LabelProblem(name);
    if (p) issues.add(f.at('name'), `${quote(name)} ${p}`);
  }
  const image = f.requiredString('image', 4096);
  if (image !== undefined && image.trim() !== image) {
    issues.add(f.at('image'), `${quote(image)} must not have leading or trailing whitespace`);
  }
  const imagePullPolicy = f.enumOf<ImagePullPolicy>('imagePullPolicy', ['Always', 'IfNotPresent', 'Never']);
  // The kubelet replaces the image's Entrypoint/Cmd only with a non-empty list.
  const command = nonEmpty(f.stringArray('command', LIMITS.argv));
  const args = nonEmpty(f.stringArray('args', LIMITS.argv));
  const envCtx = { issues, objects: ctx.objects, namespace: ctx.namespace, container: name, volumes: ctx.volumes };
  // As kubelet: envFrom first, then env; a later entry of one name wins.
  const envFrom = f.list('envFrom', LIMITS.env, (item, p) => decodeEnvFrom(envCtx, item, p)).flat();
  const env = [...envFrom, ...f.list('env', LIMITS.env, (item, p) => decodeEnv(envCtx, item, p))];
  const workingDir = decodeAbsolutePath(f, 'workingDir');
  const volumeMounts = f.list('volumeMounts', LIMITS.volumeMounts, (item, p) => decodeMount(issues, item, p));
  const resources = decodeResources(f.object('resources', RESOURCES_SHAPE), ['cpu', 'memory', 'ephemeral-storage']);
  const securityContext = decodeSecurityContext(
    f.object('securityContext', SECURITY_SHAPE),
    ctx.podSecurity,
    f.at('securityContext'),
    name,
  );
  const ports = f.list('ports', LIMITS.ports, (item, p) => decodePort(issues, item, p));
  const resolvePort = portResolver(ports, name);

  // Kubernetes 1.29+: an init container with restartPolicy Always is a sidecar. Only Always
  // exists, and only for init containers.
  const restartPolicy = f.enumOf('restartPolicy', ['Always'] as const);
  if (restartPolicy !== undefined && !ctx.init) {
    issues.add(f.at('restartPolicy'), 'is only allowed for an init container (restartPolicy: Always makes it a sidecar)');
  }
  const sidecar = ctx.init && restartPolicy === 'Always';

  let lifecycle: Lifecycle | undefined;
  let livenessProbe: Probe | undefined;
  let readinessProbe: Probe | undefined;
  let startupProbe: Probe | undefined;
  if (ctx.init && !sidecar) {
    // Kubernetes: an init container runs to completion, so it has nothing to probe or hook.
    for (const key of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (f.has(key)) issues.add(f.at(key), 'must not be set for an init container (unless it is a sidecar: restartPolicy: Always)');
    }
  } else {
    const lc = f.object('lifecycle', LIFECYCLE_SHAPE);
    if (lc) lifecycle = decodeLifecycle(lc, resolvePort);
    livenessProbe = decodeProbe(f.object('livenessProbe', PROBE_SHAPE), resolvePort, 'livenessProbe');
    readinessProbe = decodeProbe(f.object('readinessProbe', PROBE_SHAPE), resolvePort, 'readinessProbe');
    startupProbe = decodeProbe(f.object('startupProbe', PROBE_SHAPE), resolvePort, 'startupProbe');
  }

  const stdin = f.boolean('stdin') ?? false;
  const tty = f.boolean('tty') ?? false;

  if (name === undefined || image === undefined) return undefined;
  const c: ContainerSpec = {
    name,
    image,
    env,
    volumeMounts,
    resources,
    securityContext,
    ports,
    stdin,
    tty,
  };
  if (imagePullPolicy !== undefined) c.imagePullPolicy = imagePullPolicy;
  if (command !== undefined) c.command = command;
  if (args !== undefined) c.args = args;
  if (workingDir !== undefined) c.workingDir = workingDir;
  if (lifecycle !== undefined) c.lifecycle = lifecycle;
  if (livenessProbe !== undefined) c.livenessProbe = livenessProbe;
  if (readinessProbe !== undefined) c.readinessProbe = readinessProbe;
  if (startupProbe !== undefined) c.startupProbe = startupProbe;
  if (sidecar) c.restartPolicy = 'Always';
  return c;
}

function nonEmpty(list: string[] | undefined): string[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

/** An optional absolute path, normalised; "" is unset. */
export function decodeAbsolutePath(f: Fields, key: string): string | undefined {
  const p = f.optionalString(key, 4096);
  if (p === undefined) return undefined;
  if (!p.startsWith('/')) {
    f.issues.add(f.at(key), `${quote(p)} must be an absolute path`);
    return undefined;
  }
  return normaliseAbsolutePath(p);
}

function decodeMount(issues: Issues, value: unknown, path: string): VolumeMount | undefined {
  const f = Fields.open(issues, path, value, MOUNT_SHAPE);
  if (!f) return undefined;
  const name = f.requiredString('name', 253);
  let mountPath: string | undefined;
  const raw = f.requiredString('mountPath', 4096);
  if (raw !== undefined) {
    if (!raw.startsWith('/')) issues.add(f.at('mountPath'), `${quote(raw)} must be an absolute path`);
    else {
      mountPath = normaliseAbsolutePath(raw);
      if (mountPath === '/') {
        issues.add(f.at('mountPath'), `${quote(raw)} would cover the container's root filesystem`);
        mountPath = undefined;
      }
    }
  }
  const readOnly = f.boolean('readOnly') ?? false;
  let subPath: string | undefined;
  const sp = f.optionalString('subPath', 4096);
  if (sp !== undefined) {
    if (sp.startsWith('/')) issues.add(f.at('subPath'), `${quote(sp)} must be a relative path`);
    else if (sp.split('/').includes('..')) issues.add(f.at('subPath'), `${quote(sp)} must not contain '..'`);
    else {
      const n = normaliseAbsolutePath(sp).slice(1);
      // `.` or `a/` name the volume itself or a folder: the normal form keeps comparisons simple.
      if (n !== '') subPath = n;
    }
  }
  if (name === undefined || mountPath === undefined) return undefined;
  const m: VolumeMount = { name, mountPath, readOnly };
  if (subPath !== undefined) m.subPath = subPath;
  return m;
}

type ResourceName = 'cpu' | 'memory' | 'ephemeral-storage';

/**
 * limits/requests as numbers. As Kubernetes defaults them: a resource with a limit and no
 * request gets the limit as its request.
 */
export function decodeResources(f: Fields | undefined, allowed: readonly ResourceName[]): Resources {
  if (!f) return { limits: {}, requests: {} };
  const limits = decodeResourceList(f, 'limits', allowed);
  const requests = decodeResourceList(f, 'requests', allowed);
  if (limits.cpuMilli !== undefined && requests.cpuMilli === undefined) requests.cpuMilli = limits.cpuMilli;
  if (limits.memoryBytes !== undefined && requests.memoryBytes === undefined) requests.memoryBytes = limits.memoryBytes;
  if (limits.ephemeralStorageBytes !== undefined && requests.ephemeralStorageBytes === undefined) {
    requests.ephemeralStorageBytes = limits.ephemeralStorageBytes;
  }
  return { limits, requests };
}

function decodeResourceList(f: Fields, key: string, allowed: readonly ResourceName[]): ResourceList {
  const out: ResourceList = {};
  const raw = f.get(key);
  if (raw === undefined) return out;
  const path = f.at(key);
  if (!isObject(raw)) {
    f.issues.add(path, `expected an object, got ${typeName(raw)}`);
    return out;
  }
  for (const [name, value] of Object.entries(raw)) {
    const p = childPath(path, name);
    if (!(allowed as readonly string[]).includes(name)) {
      const known = ['cpu', 'memory', 'ephemeral-storage'].includes(name);
      // hugepages-2Mi and extended resources (example.com/gpu) are valid Kubernetes.
      if (known || name.startsWith('hugepages-') || name.includes('/')) {
        f.issues.add(p, 'is a Kubernetes resource minipod does not support');
      } else f.issues.add(p, 'unknown field');
      continue;
    }
    if (value === null) continue;
    if (name === 'cpu') {
      const v = quantity(f.issues, p, value, parseCpuMilli);
      if (v !== undefined) out.cpuMilli = v;
    } else if (name === 'memory') {
      const v = quantity(f.issues, p, value, parseBytes);
      if (v !== undefined) out.memoryBytes = v;
    } else {
      const v = quantity(f.issues, p, value, parseBytes);
      if (v !== undefined) out.ephemeralStorageBytes = v;
    }
  }
  return out;
}

/** A quantity field: a string, or a bare number as Kubernetes' JSON decoder also accepts. */
export function quantity(issues: Issues, path: string, value: unknown, parse: (q: string | number) => number): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    issues.add(path, `expected a quantity (string or number), got ${typeName(value)}`);
    return undefined;
  }
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof QuantityError) {
      issues.add(path, err.message);
      return undefined;
    }
    throw err;
  }
}

function decodeSecurityContext(f: Fields | undefined, pod: PodSecurityDefaults, at: string, name: string | undefined): SecurityContext {
  const seccompProfile = decodeSeccompProfile(f?.object('seccompProfile', SECCOMP_PROFILE_SHAPE)) ??
    pod.seccompProfile ?? { type: 'RuntimeDefault', field: `${at}.seccompProfile` };
  const sc: SecurityContext = {
    readOnlyRootFilesystem: false,
    allowPrivilegeEscalation: true,
    privileged: false,
    capabilities: { add: [], drop: [] },
    seccompProfile,
    procMount: 'Default',
  };
  const podAppArmor = (name !== undefined ? pod.appArmorAnnotations?.get(name) : undefined) ?? pod.appArmorProfile;
  if (podAppArmor) sc.appArmorProfile = podAppArmor;
  if (pod.seLinuxOptions) sc.seLinuxOptions = pod.seLinuxOptions;
  const runAsUser = f?.integer('runAsUser', { min: 0, max: MAX_ID }) ?? pod.runAsUser;
  const runAsGroup = f?.integer('runAsGroup', { min: 0, max: MAX_ID }) ?? pod.runAsGroup;
  const runAsNonRoot = f?.boolean('runAsNonRoot') ?? pod.runAsNonRoot;
  if (runAsUser !== undefined) sc.runAsUser = runAsUser;
  if (runAsGroup !== undefined) sc.runAsGroup = runAsGroup;
  if (runAsNonRoot !== undefined) sc.runAsNonRoot = runAsNonRoot;
  if (!f) return sc;
  sc.readOnlyRootFilesystem = f.boolean('readOnlyRootFilesystem') ?? false;
  sc.allowPrivilegeEscalation = f.boolean('allowPrivilegeEscalation') ?? true;
  sc.privileged = f.boolean('privileged') ?? false;
  const caps = f.object('capabilities', CAPABILITIES_SHAPE);
  if (caps) sc.capabilities = decodeCapabilities(caps);
  sc.procMount = f.enumOf('procMount', ['Default', 'Unmasked'] as const) ?? 'Default';
  const appArmor = decodeAppArmorProfile(f.object('appArmorProfile', APPARMOR_PROFILE_SHAPE));
  if (appArmor) sc.appArmorProfile = appArmor;
  const seLinux = decodeSeLinuxOptions(f.object('seLinuxOptions', SELINUX_OPTIONS_SHAPE));
  if (seLinux) sc.seLinuxOptions = seLinux;
  return sc;
}

function decodeCapabilities(f: Fields): Capabilities {
  const one = (key: 'add' | 'drop'): string[] => {
    const names = f.stringArray(key, LIMITS.capabilities, 64) ?? [];
    const out: string[] = [];
    names.forEach((n, i) => {
      const norm = normaliseCapability(n);
      if (norm === undefined) f.issues.add(indexPath(f.at(key), i), `${quote(n)} is not a Linux capability`);
      else if (!out.includes(norm)) out.push(norm);
    });
    return out;
  };
  return { add: one('add'), drop: one('drop') };
}

function decodePort(issues: Issues, value: unknown, path: string): ContainerPort | undefined {
  const f = Fields.open(issues, path, value, PORT_SHAPE);
  if (!f) return undefined;
  const containerPort = f.required('containerPort') === undefined ? undefined : f.integer('containerPort', { min: 1, max: 65535 });
  // Kubernetes reads hostPort 0 as "not published".
  const hostPortRaw = f.integer('hostPort', { min: 0, max: 65535 });
  const hostPort = hostPortRaw === 0 ? undefined : hostPortRaw;
  const hostIP = f.optionalString('hostIP', 64);
  if (hostIP !== undefined && !isIpAddress(hostIP)) issues.add(f.at('hostIP'), `${quote(hostIP)} is not an IP address`);
  const protocol = f.enumOf<PortProtocol>('protocol', ['TCP', 'UDP'], ['SCTP']) ?? 'TCP';
  const name = f.optionalString('name', 64);
  if (name !== undefined) {
    const p = portNameProblem(name);
    if (p) issues.add(f.at('name'), `${quote(name)} ${p}`);
  }
  if (containerPort === undefined) return undefined;
  const port: ContainerPort = { containerPort, protocol };
  if (name !== undefined) port.name = name;
  if (hostPort !== undefined) port.hostPort = hostPort;
  if (hostIP !== undefined) port.hostIP = hostIP;
  return port;
}
