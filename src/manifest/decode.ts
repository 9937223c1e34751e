/**
 * A parsed JSON value -> PodSpec: types, shapes, field-local syntax and defaults.
 *
 * Every field of the Kubernetes v1 Pod (k8s-fields.ts) is read here, accepted with a warning
 * (clusterOnly: it has no effect on one host) or refused (`is a Kubernetes field minipod does not
 * support`); anything else is an `unknown field`. So nothing a user writes is dropped silently.
 */
import type { AppArmorProfileRef, DnsConfig, DnsPolicy, MinipodOptions, PodSpec, PullSecret, Resources, RestartPolicy } from './types.js';
import { childPath, Issues, ManifestError, quote, typeName } from './issues.js';
import { Fields, isObject, type ObjectShape } from './reader.js';
import { decodeContainer, decodeResources, RESOURCES_SHAPE } from './container.js';
import { decodeHostAliases, decodePodSecurity, POD_SECURITY_SHAPE } from './pod-security.js';
import { decodeVolume } from './volumes.js';
import { NO_OBJECTS, type ObjectLookup } from './objects/types.js';
import { APPARMOR_ANNOTATION_PREFIX, appArmorFromAnnotation } from './lsm-fields.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, isIpAddress, labelValueProblem, qualifiedNameProblem } from './syntax.js';
import { decodeNameAndNamespace } from './objects/metadata.js';

export const POD_LIMITS = {
  containers: 64,
  initContainers: 64,
  volumes: 256,
  labels: 256,
  annotations: 256,
  /** Kubernetes' limit for all annotations together. */
  annotationBytes: 256 * 1024,
  nameservers: 3,
  searches: 32,
  dnsOptions: 32,
} as const;

export const MINIPOD_ANNOTATION_PREFIX = 'minipod.io/';
/** The kernel refuses a pids.max above PID_MAX_LIMIT. */
const PID_MAX_LIMIT = 4 * 1024 * 1024;

const NO_SCHEDULER = 'has no effect: minipod runs the pod on this host, there is no scheduler';
const NO_API_SERVER = 'has no effect: there is no API server, so no service account and no token';

/** PodSpec fields that only mean something to a cluster: accepted, with one warning each. */
export const CLUSTER_ONLY_POD_FIELDS: Readonly<Record<string, string>> = {
  nodeSelector: NO_SCHEDULER,
  nodeName: NO_SCHEDULER,
  affinity: NO_SCHEDULER,
  tolerations: 'has no effect: one host has no taints to tolerate',
  topologySpreadConstraints: 'has no effect: there is one host to spread pods over',
  schedulerName: NO_SCHEDULER,
  schedulingGates: NO_SCHEDULER,
  priority: 'has no effect: there is no scheduler to order or preempt pods',
  priorityClassName: 'has no effect: there is no scheduler to order or preempt pods',
  preemptionPolicy: 'has no effect: there is no scheduler to order or preempt pods',
  serviceAccountName: NO_API_SERVER,
  serviceAccount: NO_API_SERVER,
  automountServiceAccountToken: NO_API_SERVER,
  runtimeClassName: 'has no effect: minipod is the only runtime on this host',
  readinessGates: 'has no effect: no controller sets pod conditions on one host',
  enableServiceLinks: 'has no effect: there are no Services, so no service environment variables',
  overhead: 'has no effect: it is set from a RuntimeClass, and minipod has one runtime',
};

export const POD_SHAPE: ObjectShape = { type: 'Pod', known: ['apiVersion', 'kind', 'metadata', 'spec', 'status'] };
export const METADATA_SHAPE: ObjectShape = { type: 'ObjectMeta', known: ['name', 'namespace', 'labels', 'annotations'] };
export const SPEC_SHAPE: ObjectShape = {
  type: 'PodSpec',
  known: [
    'containers',
    'initContainers',
    'volumes',
    'hostname',
    'restartPolicy',
    'terminationGracePeriodSeconds',
    'shareProcessNamespace',
    'hostNetwork',
    'dnsPolicy',
    'dnsConfig',
    'resources',
    'securityContext',
    'imagePullSecrets',
    'hostUsers',
    'hostAliases',
  ],
  clusterOnly: CLUSTER_ONLY_POD_FIELDS,
};
export const LOCAL_OBJECT_REFERENCE_SHAPE: ObjectShape = { type: 'LocalObjectReference', known: ['name'] };
export const DNS_CONFIG_SHAPE: ObjectShape = { type: 'PodDNSConfig', known: ['nameservers', 'searches', 'options'] };
export const DNS_OPTION_SHAPE: ObjectShape = { type: 'PodDNSConfigOption', known: ['name', 'value'] };

/** Nothing else in a Deployment or a v2 object is worth reporting: the caller stops here. */
function checkKind(doc: Record<string, unknown>, issues: Issues): void {
  const kind = doc.kind ?? undefined;
  const apiVersion = doc.apiVersion ?? undefined;
  if (kind === undefined) issues.add('kind', 'field is required (minipod runs kind: Pod)');
  else if (kind !== 'Pod') {
    issues.add('kind', `${quote(kind)} is not supported: minipod runs a single Pod (kind: Pod)`);
  }
  if (apiVersion === undefined) issues.add('apiVersion', 'field is required (apiVersion: v1)');
  else if (apiVersion !== 'v1') issues.add('apiVersion', `${quote(apiVersion)} is not supported: a Pod is apiVersion v1`);
}

export interface PodDecodeContext {
  /** Where problems go (a fresh list by default). */
  issues?: Issues;
  /** The ConfigMaps and Secrets that came with the pod (none by default). */
  objects?: ObjectLookup;
}

/**
 * Turns a parsed manifest into a PodSpec, or returns the issues found. Cross-field rules are
 * in validate.ts and run afterwards.
 */
export function decodePod(doc: unknown, manifestDir: string, ctx: PodDecodeContext = {}): { pod?: PodSpec; issues: Issues } {
  const issues = ctx.issues ?? new Issues();
  const objects = ctx.objects ?? NO_OBJECTS;
  if (!isObject(doc)) {
    issues.add('', `a manifest must be an object (a Pod), got ${typeName(doc)}`);
    return { issues };
  }
  checkKind(doc, issues);
  if (!issues.ok) return { issues };
  const root = Fields.open(issues, '', doc, POD_SHAPE)!;
  const status = root.get('status');
  // `kubectl run --dry-run=client -o yaml` writes `status: {}`: that carries nothing. A real
  // status comes from a running pod and means the user copied live state.
  if (status !== undefined && !(isObject(status) && Object.keys(status).length === 0)) {
    issues.add('status', 'is written by a runtime, not by the user: remove it (it usually comes from `kubectl get -o yaml`)');
  }

  const meta = decodeMetadata(root, issues);
  const spec = root.object('spec', SPEC_SHAPE);
  if (!spec) {
    if (!root.has('spec')) issues.add('spec', 'field is required');
    return { issues };
  }
  const security = decodePodSecurity(spec.object('securityContext', POD_SECURITY_SHAPE));
  const podSecurity = security.defaults;
  const hostAliases = decodeHostAliases(spec);
  podSecurity.appArmorAnnotations = appArmorAnnotations(meta.annotations, issues);
  const volumeKinds = rawVolumeKinds(spec.get('volumes'));
  const initContainers = spec.list('initContainers', POD_LIMITS.initContainers, (item, p) =>
    decodeContainer(item, p, { issues, init: true, podSecurity, objects, namespace: meta.namespace, volumes: volumeKinds }),
  );
  if (!spec.has('containers')) issues.add(spec.at('containers'), 'field is required (at least one container)');
  else if (Array.isArray(spec.get('containers')) && (spec.get('containers') as unknown[]).length === 0) {
    issues.add(spec.at('containers'), 'must have at least one container');
  }
  const containers = spec.list('containers', POD_LIMITS.containers, (item, p) =>
    decodeContainer(item, p, { issues, init: false, podSecurity, objects, namespace: meta.namespace, volumes: volumeKinds }),
  );
  const volumes = spec.list('volumes', POD_LIMITS.volumes, (item, p) =>
    decodeVolume({ issues, objects, namespace: meta.namespace }, item, p),
  );
  const pullSecrets = decodePullSecrets(spec, objects, meta.namespace);
  // Warned about (no effect), but the downward API's spec.serviceAccountName reads it.
  const sa = spec.get('serviceAccountName') ?? spec.get('serviceAccount');
  const serviceAccountName = typeof sa === 'string' && sa !== '' ? sa : undefined;

  let hostname: string | undefined = spec.optionalString('hostname', 253);
  if (hostname !== undefined) {
    const p = dns1123LabelProblem(hostname);
    if (p) issues.add(spec.at('hostname'), `${quote(hostname)} ${p}`);
  }
  hostname ??= meta.name;
  const restartPolicy = spec.enumOf<RestartPolicy>('restartPolicy', ['Always', 'OnFailure', 'Never']) ?? 'Always';
  const terminationGracePeriodSeconds = spec.integer('terminationGracePeriodSeconds', { min: 0 }) ?? 30;
  const shareProcessNamespace = spec.boolean('shareProcessNamespace') ?? true;
  const hostNetwork = spec.boolean('hostNetwork') ?? false;
  const hostUsers = spec.boolean('hostUsers');
  const dnsPolicy = spec.enumOf<DnsPolicy>('dnsPolicy', ['ClusterFirst', 'Default', 'None', 'ClusterFirstWithHostNet']) ?? 'ClusterFirst';
  const dnsConfig = decodeDnsConfig(spec.object('dnsConfig', DNS_CONFIG_SHAPE));
  const resFields = spec.object('resources', RESOURCES_SHAPE);
  let resources: Resources | undefined;
  if (resFields) {
    // Kubernetes' pod-level resources know cpu and memory only.
    resources = decodeResources(resFields, ['cpu', 'memory']);
  }

  if (!issues.ok || meta.name === undefined || hostname === undefined) return { issues };
  const pod: PodSpec = {
    apiVersion: 'v1',
    kind: 'Pod',
    name: meta.name,
    labels: meta.labels,
    annotations: meta.annotations,
    minipod: meta.minipod,
    hostname,
    restartPolicy,
    terminationGracePeriodSeconds,
    shareProcessNamespace,
    hostNetwork,
    dnsPolicy,
    hostAliases,
    securityContext: security.pod,
    initContainers,
    containers,
    volumes,
    manifestDir,
  };
  if (meta.namespace !== undefined) pod.namespace = meta.namespace;
  if (dnsConfig !== undefined) pod.dnsConfig = dnsConfig;
  if (resources !== undefined) pod.resources = resources;
  if (pullSecrets.length > 0) pod.pullSecrets = pullSecrets;
  if (serviceAccountName !== undefined) pod.serviceAccountName = serviceAccountName;
  if (hostUsers !== undefined) pod.hostUsers = hostUsers;
  return { pod, issues };
}

const PULL_SECRET_TYPES: Readonly<Record<string, string>> = {
  'kubernetes.io/dockerconfigjson': '.dockerconfigjson',
  'kubernetes.io/dockercfg': '.dockercfg',
};

/**
 * spec.imagePullSecrets -> the docker config of each named Secret. As kubelet does, a Secret that
 * is missing or of another type is a warning, not an error: the pull may not need it.
 */
function decodePullSecrets(spec: Fields, objects: ObjectLookup, namespace: string | undefined): PullSecret[] {
  const out: PullSecret[] = [];
  spec.list('imagePullSecrets', 64, (item, p) => {
    const ref = Fields.open(spec.issues, p, item, LOCAL_OBJECT_REFERENCE_SHAPE);
    const name = ref?.optionalString('name', 253);
    if (!ref || name === undefined) return undefined;
    const secret = objects.secret(name, namespace);
    const key = secret ? PULL_SECRET_TYPES[secret.type] : undefined;
    if (!secret) spec.issues.warn(ref.at('name'), `no Secret ${quote(name)} among the documents: images are pulled without it`);
    else if (!key)
      spec.issues.warn(
        ref.at('name'),
        `Secret ${quote(name)} is of type ${secret.type}, not kubernetes.io/dockerconfigjson: not used for pulls`,
      );
    else {
      const parsed = JSON.parse(secret.data.get(key)!.toString('utf8')) as Record<string, unknown>;
      // .dockercfg is the old format: the auths map itself.
      out.push({ name, dockerConfig: key === '.dockercfg' ? { auths: parsed } : parsed });
    }
    return undefined;
  });
  return out;
}

interface Metadata {
  name?: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  minipod: MinipodOptions;
}

function decodeMetadata(root: Fields, issues: Issues): Metadata {
  const out: Metadata = { labels: {}, annotations: {}, minipod: { network: 'bridge', swap: false } };
  const f = root.object('metadata', METADATA_SHAPE);
  if (!f) {
    if (!root.has('metadata')) issues.add('metadata', 'field is required (metadata.name names the pod)');
    return out;
  }
  Object.assign(out, decodeNameAndNamespace(f, issues, dns1123LabelProblem));
  const labels = f.stringMap('labels', POD_LIMITS.labels) ?? {};
  for (const [k, v] of Object.entries(labels)) {
    const kp = qualifiedNameProblem(k);
    if (kp) issues.add(childPath(f.at('labels'), k), `key ${kp}`);
    const vp = labelValueProblem(v);
    if (vp) issues.add(childPath(f.at('labels'), k), `${quote(v)} ${vp}`);
  }
  out.labels = labels;
  const annotations = f.stringMap('annotations', POD_LIMITS.annotations) ?? {};
  let bytes = 0;
  for (const [k, v] of Object.entries(annotations)) {
    const kp = qualifiedNameProblem(k);
    if (kp) issues.add(childPath(f.at('annotations'), k), `key ${kp}`);
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > POD_LIMITS.annotationBytes) {
    issues.add(f.at('annotations'), `too large (${bytes} bytes, at most ${POD_LIMITS.annotationBytes})`);
  }
  out.annotations = annotations;
  out.minipod = decodeMinipodAnnotations(issues, f.at('annotations'), annotations);
  return out;
}

/** Parses minipod's own annotations; an unknown `minipod.io/` key is most likely a typo. */
export function decodeMinipodAnnotations(issues: Issues, path: string, annotations: Record<string, string>): MinipodOptions {
  const out: MinipodOptions = { network: 'bridge', swap: false };
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(MINIPOD_ANNOTATION_PREFIX)) continue;
    const p = childPath(path, key);
    switch (key) {
      case 'minipod.io/pids-max': {
        const n = /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : NaN;
        if (!Number.isSafeInteger(n)) issues.add(p, `${quote(value)} must be a positive integer`);
        else if (n > PID_MAX_LIMIT) issues.add(p, `${quote(value)} must be at most ${PID_MAX_LIMIT} (the kernel's PID_MAX_LIMIT)`);
        else out.pidsMax = n;
        break;
      }
      case 'minipod.io/network':
        if (value === 'bridge' || value === 'none') out.network = value;
        else issues.add(p, `${quote(value)} is not one of bridge, none`);
        break;
      case 'minipod.io/swap':
        if (value === 'true' || value === 'false') out.swap = value === 'true';
        else issues.add(p, `${quote(value)} is not one of true, false`);
        break;
      case 'minipod.io/userns':
        if (value === 'auto' || value === 'host') out.userns = value;
        else issues.add(p, `${quote(value)} is not one of auto, host`);
        break;
      default:
        issues.add(p, 'unknown minipod annotation (known: minipod.io/pids-max, minipod.io/network, minipod.io/swap, minipod.io/userns)');
    }
  }
  return out;
}

/** `container.apparmor.security.beta.kubernetes.io/<container>` annotations, by container name. */
function appArmorAnnotations(annotations: Record<string, string>, issues: Issues): Map<string, AppArmorProfileRef> {
  const out = new Map<string, AppArmorProfileRef>();
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const field = childPath('metadata.annotations', key);
    const ref = appArmorFromAnnotation(value, field, (msg) => issues.add(field, msg));
    if (ref) out.set(key.slice(APPARMOR_ANNOTATION_PREFIX.length), ref);
  }
  return out;
}

function decodeDnsConfig(f: Fields | undefined): DnsConfig | undefined {
  if (!f) return undefined;
  const nameservers = f.stringArray('nameservers', POD_LIMITS.nameservers, 64) ?? [];
  nameservers.forEach((ns, i) => {
    if (!isIpAddress(ns)) f.issues.add(`${f.at('nameservers')}[${i}]`, `${quote(ns)} is not an IP address`);
  });
  const searches = f.stringArray('searches', POD_LIMITS.searches, 253) ?? [];
  searches.forEach((s, i) => {
    // resolv.conf allows a trailing dot for an absolute name.
    const p = dns1123SubdomainProblem(s.endsWith('.') ? s.slice(0, -1) : s);
    if (p) f.issues.add(`${f.at('searches')}[${i}]`, `${quote(s)} ${p}`);
  });
  const options = f.list('options', POD_LIMITS.dnsOptions, (item, p) => {
    const o = Fields.open(f.issues, p, item, DNS_OPTION_SHAPE);
    if (!o) return undefined;
    const name = o.requiredString('name', 256);
    const value = o.string('value', 256);
    // resolv.conf is line-based: whitespace would start another option.
    for (const [k, v] of [
      ['name', name],
      ['value', value],
    ] as const) {
      if (v !== undefined && /\s/.test(v)) f.issues.add(o.at(k), `${quote(v)} must not contain whitespace`);
    }
    if (name === undefined) return undefined;
    return value === undefined ? { name } : { name, value };
  });
  return { nameservers, searches, options };
}

/** For callers that hold a parsed document and want the exception, not the list. */
export function decodePodOrThrow(doc: unknown, manifestDir: string): PodSpec {
  const { pod, issues } = decodePod(doc, manifestDir);
  issues.throwIfAny();
  if (!pod) throw new ManifestError([{ path: '', message: 'invalid manifest' }]);
  return pod;
}

/** Volume names, and which are emptyDirs, read from the raw list (containers decode first). */
function rawVolumeKinds(raw: unknown): { all: Set<string>; emptyDirs: Set<string> } {
  const all = new Set<string>();
  const emptyDirs = new Set<string>();
  for (const v of Array.isArray(raw) ? raw : []) {
    if (typeof v !== 'object' || v === null || typeof (v as { name?: unknown }).name !== 'string') continue;
    const { name, emptyDir } = v as { name: string; emptyDir?: unknown };
    all.add(name);
    if (typeof emptyDir === 'object' && emptyDir !== null) emptyDirs.add(name);
  }
  return { all, emptyDirs };
}
