/**
 * The field names of Kubernetes v1 objects (k8s.io/api core/v1, as of v1.33), one list per
 * type. A key in a manifest that is not read by minipod is then either a Kubernetes field
 * minipod does not support (it is in the type's list) or a typo (it is not): the two get
 * different messages, and a typo gets the nearest real name as a hint.
 *
 * These are names only, written from the API reference; what minipod does with each field is in
 * the decoders' shapes and in docs/manifest.md's field table (test/unit/manifest/field-table.test.ts
 * keeps the three in step).
 */
export const K8S_FIELDS = {
  ObjectMeta: [
    'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
    'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers',
    'managedFields',
  ],
  Pod: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  PodSpec: [
    'volumes', 'initContainers', 'containers', 'ephemeralContainers', 'restartPolicy', 'terminationGracePeriodSeconds',
    'activeDeadlineSeconds', 'dnsPolicy', 'nodeSelector', 'serviceAccountName', 'serviceAccount',
    'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace',
    'securityContext', 'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName', 'tolerations',
    'hostAliases', 'priorityClassName', 'priority', 'dnsConfig', 'readinessGates', 'runtimeClassName',
    'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints', 'setHostnameAsFQDN', 'os',
    'hostUsers', 'schedulingGates', 'resourceClaims', 'resources',
  ],
  Container: [
    'name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy',
    'restartPolicy', 'restartPolicyRules', 'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle',
    'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce',
    'tty',
  ],
  PodSecurityContext: [
    'seLinuxOptions', 'windowsOptions', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'supplementalGroups',
    'supplementalGroupsPolicy', 'fsGroup', 'sysctls', 'fsGroupChangePolicy', 'seccompProfile', 'appArmorProfile',
    'seLinuxChangePolicy',
  ],
  SecurityContext: [
    'capabilities', 'privileged', 'seLinuxOptions', 'windowsOptions', 'runAsUser', 'runAsGroup', 'runAsNonRoot',
    'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'procMount', 'seccompProfile', 'appArmorProfile',
    'cgroupOptions',
  ],
  Capabilities: ['add', 'drop'],
  SeccompProfile: ['type', 'localhostProfile'],
  AppArmorProfile: ['type', 'localhostProfile'],
  SELinuxOptions: ['user', 'role', 'type', 'level'],
  Volume: [
    'name', 'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
    'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
    'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
    'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
  ],
  HostPathVolumeSource: ['path', 'type'],
  EmptyDirVolumeSource: ['medium', 'sizeLimit', 'mode'],
  ConfigMapVolumeSource: ['name', 'items', 'defaultMode', 'optional'],
  SecretVolumeSource: ['secretName', 'items', 'defaultMode', 'optional'],
  KeyToPath: ['key', 'path', 'mode'],
  DownwardAPIVolumeSource: ['items', 'defaultMode'],
  DownwardAPIVolumeFile: ['path', 'fieldRef', 'resourceFieldRef', 'mode'],
  ProjectedVolumeSource: ['sources', 'defaultMode'],
  VolumeProjection: ['secret', 'downwardAPI', 'configMap', 'serviceAccountToken', 'clusterTrustBundle', 'podCertificate'],
  ConfigMapProjection: ['name', 'items', 'optional'],
  SecretProjection: ['name', 'items', 'optional'],
  DownwardAPIProjection: ['items'],
  VolumeMount: ['name', 'readOnly', 'recursiveReadOnly', 'mountPath', 'subPath', 'mountPropagation', 'subPathExpr'],
  EnvVar: ['name', 'value', 'valueFrom'],
  EnvVarSource: ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'],
  ObjectFieldSelector: ['apiVersion', 'fieldPath'],
  ResourceFieldSelector: ['containerName', 'resource', 'divisor'],
  ConfigMapKeySelector: ['name', 'key', 'optional'],
  SecretKeySelector: ['name', 'key', 'optional'],
  EnvFromSource: ['prefix', 'configMapRef', 'secretRef'],
  ConfigMapEnvSource: ['name', 'optional'],
  SecretEnvSource: ['name', 'optional'],
  ResourceRequirements: ['limits', 'requests', 'claims'],
  ContainerPort: ['name', 'hostPort', 'containerPort', 'protocol', 'hostIP'],
  Probe: [
    'exec', 'httpGet', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds',
    'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds',
  ],
  Lifecycle: ['postStart', 'preStop', 'stopSignal'],
  LifecycleHandler: ['exec', 'httpGet', 'tcpSocket', 'sleep'],
  ExecAction: ['command'],
  HTTPGetAction: ['path', 'port', 'host', 'scheme', 'httpHeaders'],
  HTTPHeader: ['name', 'value'],
  TCPSocketAction: ['port', 'host'],
  GRPCAction: ['port', 'service'],
  Sysctl: ['name', 'value'],
  HostAlias: ['ip', 'hostnames'],
  PodDNSConfig: ['nameservers', 'searches', 'options'],
  PodDNSConfigOption: ['name', 'value'],
  LocalObjectReference: ['name'],
  ConfigMap: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
  Secret: ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'],
  List: ['apiVersion', 'kind', 'metadata', 'items'],
  PersistentVolumeClaimVolumeSource: ['claimName', 'readOnly'],
  EphemeralVolumeSource: ['volumeClaimTemplate'],
  ImageVolumeSource: ['reference', 'pullPolicy'],
  PersistentVolumeClaimTemplate: ['metadata', 'spec'],
  PersistentVolumeClaim: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  PersistentVolumeClaimSpec: [
    'accessModes', 'selector', 'resources', 'volumeName', 'storageClassName', 'volumeMode', 'dataSource',
    'dataSourceRef', 'volumeAttributesClassName',
  ],
  VolumeResourceRequirements: ['limits', 'requests'],
  // apps/v1 and batch/v1: the workload kinds that hold a pod template.
  Deployment: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  DeploymentSpec: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'],
  ReplicaSet: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  ReplicaSetSpec: ['replicas', 'minReadySeconds', 'selector', 'template'],
  StatefulSet: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  StatefulSetSpec: [
    'replicas', 'selector', 'template', 'volumeClaimTemplates', 'serviceName', 'podManagementPolicy', 'updateStrategy',
    'revisionHistoryLimit', 'minReadySeconds', 'persistentVolumeClaimRetentionPolicy', 'ordinals',
  ],
  StatefulSetOrdinals: ['start'],
  StatefulSetPersistentVolumeClaimRetentionPolicy: ['whenDeleted', 'whenScaled'],
  DaemonSet: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  DaemonSetSpec: ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'],
  Job: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  JobSpec: [
    'parallelism', 'completions', 'activeDeadlineSeconds', 'podFailurePolicy', 'successPolicy', 'backoffLimit',
    'backoffLimitPerIndex', 'maxFailedIndexes', 'selector', 'manualSelector', 'template', 'ttlSecondsAfterFinished',
    'completionMode', 'suspend', 'podReplacementPolicy', 'managedBy',
  ],
  PodTemplateSpec: ['metadata', 'spec'],
  LabelSelector: ['matchLabels', 'matchExpressions'],
  LabelSelectorRequirement: ['key', 'operator', 'values'],
} as const satisfies Record<string, readonly string[]>;

export type K8sType = keyof typeof K8S_FIELDS;

/** Edit distance, for "did you mean" hints on typos. */
export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest name, if it is close enough to be the one meant (case is ignored). */
export function nearestName(word: string, names: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = levenshtein(w, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}
