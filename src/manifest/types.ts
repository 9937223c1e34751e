/**
 * The validated, normalised pod that the rest of minipod works from.
 *
 * `src/manifest/` turns a Kubernetes v1 Pod (JSON or YAML) into these types, or fails with a
 * UserError naming the field path. Nothing downstream re-validates: defaults are filled in and
 * quantities are numbers (cpu in millicores, memory in bytes).
 */

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/**
 * A `resourceFieldRef`: a container's limit or request, divided by `divisor` and rounded up.
 * cpu is in millicores (divisor 1 or 1000), memory and ephemeral-storage in bytes.
 */
export interface ResourceFieldRef {
  containerName: string;
  resource: 'limits.cpu' | 'requests.cpu' | 'limits.memory' | 'requests.memory' | 'limits.ephemeral-storage' | 'requests.ephemeral-storage';
  divisor: number;
}

/** A value known only once the pod exists (its uid, IP, the host): resolved at container start. */
export type DownwardSource = { fieldPath: string } | { resourceFieldRef: ResourceFieldRef };

export interface EnvVar {
  name: string;
  /** The value; '' when `from` gives it at start. */
  value: string;
  /** Set for the downward API (fieldRef, resourceFieldRef). */
  from?: DownwardSource;
  /**
   * Not `$(VAR)`-expanded: values from ConfigMaps, Secrets and the downward API (kubelet
   * expands only `value`).
   */
  literal?: boolean;
  /** Came from a Secret: never written to disk (spec.json keeps the name only). */
  secret?: boolean;
  /** `valueFrom.fileKeyRef`: a key of an env file in an emptyDir, read when the container starts. */
  fromFile?: FileKeyRef;
}

export interface FileKeyRef {
  /** An emptyDir volume of the pod. */
  volumeName: string;
  /** Relative to the volume, without `..`. */
  path: string;
  key: string;
  optional: boolean;
}

export interface VolumeMount {
  name: string;
  /** Absolute path inside the container. */
  mountPath: string;
  readOnly: boolean;
  /** Relative path inside the volume; never contains `..`. */
  subPath?: string;
}

/** Quantities already parsed: cpu in millicores, memory and storage in bytes. */
export interface ResourceList {
  cpuMilli?: number;
  memoryBytes?: number;
  ephemeralStorageBytes?: number;
  hugepages?: Record<string, number>;
}

export interface Resources {
  limits: ResourceList;
  requests: ResourceList;
}

export interface Capabilities {
  /** Upper-case names without the CAP_ prefix, e.g. `NET_ADMIN`; `ALL` allowed. */
  add: string[];
  drop: string[];
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem: boolean;
  /** Kubernetes default is true; false sets no_new_privs. */
  allowPrivilegeEscalation: boolean;
  privileged: boolean;
  capabilities: Capabilities;
  /** The container's own, else the pod's, else RuntimeDefault. */
  seccompProfile: SeccompProfileRef;
  /** `Unmasked` (hostUsers: false only) leaves /proc unmasked and writable. */
  procMount: 'Default' | 'Unmasked';
  /** The container's field, else its annotation, else the pod's; absent: none asked for. */
  appArmorProfile?: AppArmorProfileRef;
  /** The container's own, else the pod's. */
  seLinuxOptions?: SeLinuxOptionsRef;
}

export interface AppArmorProfileRef {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** The name of a profile loaded on the host; set for Localhost only. */
  localhostProfile?: string;
  /** Where it was set, for messages. */
  field: string;
}

export interface SeLinuxOptionsRef {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
  /** Where it was set, for messages. */
  field: string;
}

export interface SeccompProfileRef {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** Relative to minipod's seccomp directory; set for Localhost only. */
  localhostProfile?: string;
  /** Where it was set (`spec.containers[0].securityContext.seccompProfile`), for messages. */
  field: string;
}

export type PortProtocol = 'TCP' | 'UDP';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol: PortProtocol;
}

export interface ExecAction {
  command: string[];
}

export interface HttpGetAction {
  path: string;
  /** Resolved to a number; a named port is looked up in the container's ports. */
  port: number;
  host?: string;
  scheme: 'HTTP' | 'HTTPS';
  httpHeaders: { name: string; value: string }[];
}

export interface TcpSocketAction {
  port: number;
  host?: string;
}

/** grpc.health.v1.Health/Check on the pod's address; SERVING is success. */
export interface GrpcAction {
  port: number;
  /** HealthCheckRequest.service; "" asks about the server as a whole. */
  service: string;
}

export interface Handler {
  exec?: ExecAction;
  httpGet?: HttpGetAction;
  tcpSocket?: TcpSocketAction;
  /** Probes only: Kubernetes has no grpc lifecycle hook. */
  grpc?: GrpcAction;
}

export interface Probe extends Handler {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface Lifecycle {
  preStop?: Handler;
  postStart?: Handler;
}

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface ContainerSpec {
  name: string;
  /** As written in the manifest; resolved by src/images relative to `PodSpec.manifestDir`. */
  image: string;
  imagePullPolicy?: ImagePullPolicy;
  /** Replaces the image's Entrypoint when set. */
  command?: string[];
  /** Replaces the image's Cmd when set. */
  args?: string[];
  env: EnvVar[];
  workingDir?: string;
  volumeMounts: VolumeMount[];
  resources: Resources;
  securityContext: SecurityContext;
  ports: ContainerPort[];
  lifecycle?: Lifecycle;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  stdin: boolean;
  tty: boolean;
  /**
   * Init containers only: `Always` makes it a sidecar (Kubernetes 1.29+): it keeps running
   * beside the app containers, restarts whenever it exits, and stops after them.
   */
  restartPolicy?: 'Always';
}

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/**
 * What a PersistentVolumeClaim asks for (a PVC document, an ephemeral volume's template, a
 * StatefulSet's volumeClaimTemplates): recorded with the named volume, not enforced.
 */
export interface ClaimSpec {
  /** `resources.requests.storage`, in bytes. */
  storageBytes?: number;
  accessModes: string[];
  storageClassName?: string;
  /** `Filesystem` (the default); `Block` is refused. */
  volumeMode?: 'Filesystem';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** One file of a configMap, secret, downwardAPI or projected volume, relative to the volume. */
export interface ProjectedFile {
  /** Relative path, `/`-separated, without `.` or `..` components. */
  path: string;
  /** Permission bits (0 to 0o777). */
  mode: number;
  /** The content, base64, for a ConfigMap or Secret key. */
  data?: string;
  /** Or a downward API value, resolved when the pod starts. */
  from?: DownwardSource;
  /** From a Secret: the volume is a tmpfs, and spec.json keeps no content. */
  secret?: boolean;
}

export type VolumeSource =
  | { kind: 'hostPath'; path: string; type: HostPathType }
  | { kind: 'emptyDir'; medium: '' | 'Memory'; sizeLimitBytes?: number; mode?: number }
  /** A named volume under <lib>/volumes that outlives the pod; created on first use. */
  | { kind: 'persistentVolumeClaim'; claimName: string; readOnly: boolean }
  /** A named volume `<pod>-<volume>` made for this pod and removed with it. */
  | { kind: 'ephemeral'; claim: ClaimSpec }
  /** An emptyDir with a git repository cloned into it (src/volumes/git-repo.ts). */
  | { kind: 'gitRepo'; repository: string; revision?: string; directory?: string }
  /** An image's file system, read-only (and noexec, as kubelet mounts it). */
  | { kind: 'image'; reference: string; pullPolicy?: ImagePullPolicy }
  /**
   * configMap, secret, downwardAPI and projected volumes: files written as kubelet's atomic
   * writer lays them out (`..data` -> a timestamped folder), mounted read-only. `tmpfs` for
   * secret and projected volumes, as kubelet: their content never reaches the disk.
   */
  | { kind: 'files'; type: 'configMap' | 'secret' | 'downwardAPI' | 'projected'; files: ProjectedFile[]; tmpfs: boolean };

export interface Volume {
  name: string;
  source: VolumeSource;
}

/** One `spec.hostAliases` entry: extra lines for the pod's /etc/hosts. */
export interface HostAlias {
  ip: string;
  hostnames: string[];
}

export interface Sysctl {
  /** Dotted form (`net.ipv4.ip_local_port_range`); a slash-separated name is normalised. */
  name: string;
  value: string;
}

/** The pod-wide part of `spec.securityContext` (runAs* defaults are folded into each container). */
export interface PodSecurityContext {
  /** Volumes are group-owned by it (setgid dirs) and every container gets it as a group. */
  fsGroup?: number;
  fsGroupChangePolicy: 'Always' | 'OnRootMismatch';
  supplementalGroups: number[];
  /** Merge: also the groups the image's /etc/group gives the user; Strict: only the pod's. */
  supplementalGroupsPolicy: 'Merge' | 'Strict';
  sysctls: Sysctl[];
}

export type DnsPolicy = 'ClusterFirst' | 'Default' | 'None' | 'ClusterFirstWithHostNet';

export interface DnsConfig {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

/** What minipod reads from `minipod.io/` annotations, parsed and checked. */
export interface MinipodOptions {
  /** `minipod.io/pids-max`: the pod's pids.max. */
  pidsMax?: number;
  /** `minipod.io/network`: `bridge` (default, CNI) or `none` (loopback only). */
  network: 'bridge' | 'none';
  /** `minipod.io/swap`: `true` allows swap up to the memory limit; default off. */
  swap: boolean;
  /**
   * `minipod.io/userns`: `auto` gives the pod its own user namespace unless spec.hostUsers
   * says otherwise (podman's --userns=auto); `host` keeps the host's users against a
   * host-wide MINIPOD_USERNS=auto.
   */
  userns?: 'auto' | 'host';
}

/** A registry login from an imagePullSecrets Secret: a docker config (`{"auths": {...}}`). Secret data. */
export interface PullSecret {
  name: string;
  dockerConfig: Record<string, unknown>;
}

export interface PodSpec {
  apiVersion: 'v1';
  kind: 'Pod';
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  minipod: MinipodOptions;
  /** spec.hostname, or metadata.name. */
  hostname: string;
  restartPolicy: RestartPolicy;
  terminationGracePeriodSeconds: number;
  /** minipod's default is true: one PID namespace for the whole pod. */
  shareProcessNamespace: boolean;
  hostNetwork: boolean;
  /** spec.hostUsers as written (false: a user namespace of its own); see src/userns/policy.ts. */
  hostUsers?: boolean;
  dnsPolicy: DnsPolicy;
  dnsConfig?: DnsConfig;
  hostAliases: HostAlias[];
  securityContext: PodSecurityContext;
  initContainers: ContainerSpec[];
  containers: ContainerSpec[];
  volumes: Volume[];
  /** Pod-level resources (spec.resources). */
  resources?: Resources;
  /** Absolute folder of the manifest file; relative image paths are resolved against it. */
  manifestDir: string;
  /** spec.serviceAccountName (no effect, but the downward API can read it). */
  serviceAccountName?: string;
  /** spec.imagePullSecrets that name a docker-config Secret of the input, in order. */
  pullSecrets?: PullSecret[];
  /** Set on a saved spec whose Secret content was left out (redact.ts): it cannot run as is. */
  secretDataRemoved?: boolean;
  /** The workload object this pod was made from (a Deployment's replica), if any. */
  owner?: PodOwner;
}

export type WorkloadKind = 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job';

/** Which object a pod belongs to: `Deployment/web`, replica 1. Kept in the pod's state. */
export interface PodOwner {
  kind: WorkloadKind;
  name: string;
  /** The replica's index: the pod is `<name>-<ordinal>`. */
  ordinal: number;
}
