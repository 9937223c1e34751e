import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ManifestError, parsePodManifest } from '../../../src/manifest/index.js';
import { UserError } from '../../../src/errors.js';

type Json = Record<string, any>;

/** A valid pod; each case changes one thing. */
function base(): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pod' },
    spec: {
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [
        { name: 'web', image: 'img', ports: [{ name: 'http', containerPort: 80 }] },
        { name: 'app', image: 'img' },
      ],
    },
  };
}

function errorOf(text: string): ManifestError | UserError {
  try {
    parsePodManifest(text, { manifestDir: '/m', source: 'pod.yaml' });
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(125);
    expect((err as Error).message).not.toMatch(/\n/);
    return err as UserError;
  }
  throw new Error('manifest was accepted');
}

function messageFor(mutate: (p: Json) => void): string {
  const pod = base();
  mutate(pod);
  return errorOf(stringify(pod)).message;
}

const c0 = (p: Json): Json => p.spec.containers[0];

describe('refused manifests name the field', () => {
  const cases: [string, (p: Json) => void, string][] = [
    // Pod and metadata
    ['kind', (p) => (p.kind = 'Deployment'), 'kind: "Deployment" is not supported: minipod runs a single Pod (kind: Pod)'],
    ['apiVersion', (p) => (p.apiVersion = 'v2'), 'apiVersion: "v2" is not supported: a Pod is apiVersion v1'],
    ['no kind', (p) => delete p.kind, 'kind: field is required (minipod runs kind: Pod)'],
    ['unknown top-level', (p) => (p.extra = 1), 'extra: unknown field'],
    [
      'status',
      (p) => (p.status = { phase: 'Running' }),
      'status: is written by a runtime, not by the user: remove it (it usually comes from `kubectl get -o yaml`)',
    ],
    ['no metadata', (p) => delete p.metadata, 'metadata: field is required (metadata.name names the pod)'],
    ['no name', (p) => delete p.metadata.name, 'metadata.name: field is required'],
    [
      'bad name',
      (p) => (p.metadata.name = 'My_Pod'),
      `metadata.name: "My_Pod" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
    ],
    [
      'long name',
      (p) => (p.metadata.name = 'a'.repeat(64)),
      'metadata.name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" must be at most 63 characters',
    ],
    ['name type', (p) => (p.metadata.name = 5), 'metadata.name: expected a string, got number'],
    ['uid', (p) => (p.metadata.uid = 'abc'), 'metadata.uid: is a Kubernetes field minipod does not support'],
    ['metadata typo', (p) => (p.metadata.lables = {}), 'metadata.lables: unknown field (did you mean "labels"?)'],
    ['label value type', (p) => (p.metadata.labels = { app: 1 }), 'metadata.labels.app: expected a string, got number'],
    [
      'label value syntax',
      (p) => (p.metadata.labels = { app: 'a b' }),
      `metadata.labels.app: "a b" must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
    ],
    [
      'annotation value type',
      (p) => (p.metadata.annotations = { 'example.com/x': true }),
      'metadata.annotations["example.com/x"]: expected a string, got boolean',
    ],
    ['annotations not a map', (p) => (p.metadata.annotations = ['a']), 'metadata.annotations: expected an object, got array'],
    [
      'pids-max',
      (p) => (p.metadata.annotations = { 'minipod.io/pids-max': '0' }),
      'metadata.annotations["minipod.io/pids-max"]: "0" must be a positive integer',
    ],
    [
      'pids-max text',
      (p) => (p.metadata.annotations = { 'minipod.io/pids-max': 'lots' }),
      'metadata.annotations["minipod.io/pids-max"]: "lots" must be a positive integer',
    ],
    [
      'network',
      (p) => (p.metadata.annotations = { 'minipod.io/network': 'host' }),
      'metadata.annotations["minipod.io/network"]: "host" is not one of bridge, none',
    ],
    [
      'swap',
      (p) => (p.metadata.annotations = { 'minipod.io/swap': 'yes' }),
      'metadata.annotations["minipod.io/swap"]: "yes" is not one of true, false',
    ],
    [
      'minipod typo',
      (p) => (p.metadata.annotations = { 'minipod.io/pid-max': '5' }),
      'metadata.annotations["minipod.io/pid-max"]: unknown minipod annotation (known: minipod.io/pids-max, minipod.io/network, minipod.io/swap, minipod.io/userns)',
    ],
    // spec
    ['no spec', (p) => delete p.spec, 'spec: field is required'],
    [
      'activeDeadlineSeconds',
      (p) => (p.spec.activeDeadlineSeconds = 5),
      'spec.activeDeadlineSeconds: is a Kubernetes field minipod does not support',
    ],
    ['hostPID', (p) => (p.spec.hostPID = true), 'spec.hostPID: is a Kubernetes field minipod does not support'],
    ['spec typo', (p) => (p.spec.container = []), 'spec.container: unknown field (did you mean "containers"?)'],
    ['no containers', (p) => delete p.spec.containers, 'spec.containers: field is required (at least one container)'],
    ['empty containers', (p) => (p.spec.containers = []), 'spec.containers: must have at least one container'],
    ['containers type', (p) => (p.spec.containers = { name: 'a' }), 'spec.containers: expected an array, got object'],
    [
      'too many containers',
      (p) => (p.spec.containers = Array.from({ length: 65 }, (_, i) => ({ name: `c${i}`, image: 'i' }))),
      'spec.containers: too many entries (65, at most 64)',
    ],
    [
      'restartPolicy',
      (p) => (p.spec.restartPolicy = 'Sometimes'),
      'spec.restartPolicy: "Sometimes" is not one of Always, OnFailure, Never',
    ],
    [
      'grace negative',
      (p) => (p.spec.terminationGracePeriodSeconds = -1),
      'spec.terminationGracePeriodSeconds: must be at least 0, got -1',
    ],
    [
      'grace fraction',
      (p) => (p.spec.terminationGracePeriodSeconds = 1.5),
      'spec.terminationGracePeriodSeconds: expected an integer, got 1.5',
    ],
    [
      'grace string',
      (p) => (p.spec.terminationGracePeriodSeconds = '30'),
      'spec.terminationGracePeriodSeconds: expected an integer, got string',
    ],
    ['shareProcessNamespace', (p) => (p.spec.shareProcessNamespace = 'yes'), 'spec.shareProcessNamespace: expected a boolean, got string'],
    [
      'hostname',
      (p) => (p.spec.hostname = 'a.b'),
      `spec.hostname: "a.b" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
    ],
    [
      'dnsPolicy',
      (p) => (p.spec.dnsPolicy = 'Host'),
      'spec.dnsPolicy: "Host" is not one of ClusterFirst, Default, None, ClusterFirstWithHostNet',
    ],
    [
      'dns None without servers',
      (p) => (p.spec.dnsPolicy = 'None'),
      'spec.dnsConfig.nameservers: at least one nameserver is required with dnsPolicy: None',
    ],
    [
      'nameserver',
      (p) => (p.spec.dnsConfig = { nameservers: ['dns.google'] }),
      'spec.dnsConfig.nameservers[0]: "dns.google" is not an IP address',
    ],
    [
      'too many nameservers',
      (p) => (p.spec.dnsConfig = { nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'] }),
      'spec.dnsConfig.nameservers: too many entries (4, at most 3)',
    ],
    ['dns option', (p) => (p.spec.dnsConfig = { options: [{ value: '1' }] }), 'spec.dnsConfig.options[0].name: field is required'],
    [
      'pod securityContext',
      (p) => (p.spec.securityContext = { seLinuxChangePolicy: 'Recursive' }),
      'spec.securityContext.seLinuxChangePolicy: is a Kubernetes field minipod does not support',
    ],
    [
      'fsGroup range',
      (p) => (p.spec.securityContext = { fsGroup: -1 }),
      'spec.securityContext.fsGroup: must be between 0 and 4294967294, got -1',
    ],
    [
      'fsGroupChangePolicy',
      (p) => (p.spec.securityContext = { fsGroupChangePolicy: 'Never' }),
      'spec.securityContext.fsGroupChangePolicy: "Never" is not one of Always, OnRootMismatch',
    ],
    [
      'supplementalGroups item',
      (p) => (p.spec.securityContext = { supplementalGroups: [5, 'x'] }),
      'spec.securityContext.supplementalGroups[1]: expected an integer, got string',
    ],
    [
      'supplementalGroupsPolicy',
      (p) => (p.spec.securityContext = { supplementalGroupsPolicy: 'Loose' }),
      'spec.securityContext.supplementalGroupsPolicy: "Loose" is not one of Merge, Strict',
    ],
    [
      'host-wide sysctl',
      (p) =>
        (p.spec.securityContext = {
          sysctls: [
            { name: 'net.core.somaxconn', value: '1024' },
            { name: 'vm.swappiness', value: '1' },
          ],
        }),
      'spec.securityContext.sysctls[1].name: "vm.swappiness" is not a namespaced sysctl: setting it would change the whole host (a pod may set net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.*)',
    ],
    [
      'kernel sysctl',
      (p) => (p.spec.securityContext = { sysctls: [{ name: 'kernel.pid_max', value: '1' }] }),
      'spec.securityContext.sysctls[0].name: "kernel.pid_max" is not a namespaced sysctl: setting it would change the whole host (a pod may set net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.*)',
    ],
    [
      'net sysctl with hostNetwork',
      (p) => {
        p.spec.hostNetwork = true;
        p.spec.securityContext = {
          sysctls: [
            { name: 'kernel.shm_rmid_forced', value: '1' },
            { name: 'net.ipv4.tcp_syncookies', value: '1' },
          ],
        };
      },
      `spec.securityContext.sysctls[1].name: "net.ipv4.tcp_syncookies" cannot be set with spec.hostNetwork: true: the pod shares the host's network namespace`,
    ],
    [
      'sysctl name syntax',
      (p) => (p.spec.securityContext = { sysctls: [{ name: 'net..ipv4', value: '1' }] }),
      `spec.securityContext.sysctls[0].name: "net..ipv4" is not a sysctl name: lower-case components of letters, digits, '-' and '_', separated by '.' (or '/')`,
    ],
    [
      'sysctl traversal',
      (p) => (p.spec.securityContext = { sysctls: [{ name: 'net/../../etc', value: '1' }] }),
      `spec.securityContext.sysctls[0].name: "net/../../etc" is not a sysctl name: lower-case components of letters, digits, '-' and '_', separated by '.' (or '/')`,
    ],
    [
      'sysctl twice',
      (p) =>
        (p.spec.securityContext = {
          sysctls: [
            { name: 'kernel.sem', value: '1' },
            { name: 'kernel/sem', value: '2' },
          ],
        }),
      'spec.securityContext.sysctls[1].name: "kernel/sem" is set twice',
    ],
    [
      'hostAliases ip',
      (p) => (p.spec.hostAliases = [{ ip: 'localhost', hostnames: ['a'] }]),
      'spec.hostAliases[0].ip: "localhost" is not an IP address',
    ],
    [
      'hostAliases hostname',
      (p) => (p.spec.hostAliases = [{ ip: '10.0.0.1', hostnames: ['ok.example', 'Bad_Name'] }]),
      'spec.hostAliases[0].hostnames[1]: "Bad_Name" must be a DNS-1123 subdomain: lower-case labels separated by dots',
    ],
    ['hostAliases ip required', (p) => (p.spec.hostAliases = [{ hostnames: ['a'] }]), 'spec.hostAliases[0].ip: field is required'],
    [
      'pod resources storage',
      (p) => (p.spec.resources = { limits: { 'ephemeral-storage': '1Gi' } }),
      'spec.resources.limits.ephemeral-storage: is a Kubernetes resource minipod does not support',
    ],
    [
      'pod limit below container',
      (p) => {
        p.spec.resources = { limits: { memory: '64Mi' } };
        c0(p).resources = { limits: { memory: '128Mi' } };
      },
      `spec.containers[0].resources.limits.memory: 128Mi is more than the pod's limit (spec.resources.limits.memory: 64Mi)`,
    ],
    [
      'pod requests below containers',
      (p) => {
        p.spec.resources = { requests: { cpu: '1' } };
        c0(p).resources = { requests: { cpu: '600m' } };
        p.spec.containers[1].resources = { requests: { cpu: '600m' } };
      },
      'spec.resources.requests.cpu: 1 is less than the containers request together (1200m)',
    ],
    // volumes
    [
      'volume name',
      (p) => (p.spec.volumes[0].name = 'Data'),
      `spec.volumes[0].name: "Data" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
    ],
    ['volume twice', (p) => p.spec.volumes.push({ name: 'data', emptyDir: {} }), 'spec.volumes[1].name: "data" is used twice'],
    [
      'configMap missing',
      (p) => p.spec.volumes.push({ name: 'cfg', configMap: { name: 'x' } }),
      'spec.volumes[1].configMap.name: no ConfigMap "x" among the documents (set optional: true to run without it)',
    ],
    [
      'nfs',
      (p) => p.spec.volumes.push({ name: 'n', nfs: { server: 's', path: '/' } }),
      'spec.volumes[1].nfs: is a Kubernetes field minipod does not support: a network filesystem a cluster node mounts from its server; mount it on the host and use a hostPath',
    ],
    [
      'no source',
      (p) => p.spec.volumes.push({ name: 'x' }),
      'spec.volumes[1]: must specify a volume source: hostPath, emptyDir, gitRepo, persistentVolumeClaim, ephemeral, image, configMap, secret, downwardAPI, projected',
    ],
    [
      'null emptyDir',
      (p) => p.spec.volumes.push({ name: 'x', emptyDir: null }),
      'spec.volumes[1]: must specify a volume source: hostPath, emptyDir, gitRepo, persistentVolumeClaim, ephemeral, image, configMap, secret, downwardAPI, projected (an empty emptyDir is written `emptyDir: {}`)',
    ],
    [
      'two sources',
      (p) => p.spec.volumes.push({ name: 'x', emptyDir: {}, hostPath: { path: '/' } }),
      'spec.volumes[1]: must specify exactly one volume source (got hostPath and emptyDir)',
    ],
    [
      'hostPath relative',
      (p) => p.spec.volumes.push({ name: 'x', hostPath: { path: 'data' } }),
      'spec.volumes[1].hostPath.path: "data" must be an absolute path',
    ],
    [
      'hostPath type',
      (p) => p.spec.volumes.push({ name: 'x', hostPath: { path: '/d', type: 'Dir' } }),
      'spec.volumes[1].hostPath.type: "Dir" is not one of DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice',
    ],
    [
      'medium',
      (p) => (p.spec.volumes[0].emptyDir = { medium: 'HugePages-2Mi' }),
      'spec.volumes[0].emptyDir.medium: "HugePages-2Mi" is not supported by minipod',
    ],
    [
      'medium typo',
      (p) => (p.spec.volumes[0].emptyDir = { medium: 'memory' }),
      'spec.volumes[0].emptyDir.medium: "memory" is not one of Memory',
    ],
    [
      'gitRepo repository that is an option',
      (p) => p.spec.volumes.push({ name: 'g', gitRepo: { repository: '--upload-pack=touch /x' } }),
      'spec.volumes[1].gitRepo.repository: "--upload-pack=touch /x" may not start with "-"',
    ],
    [
      'gitRepo directory outside the volume',
      (p) => p.spec.volumes.push({ name: 'g', gitRepo: { repository: 'https://example.com/r.git', directory: 'a/../../b' } }),
      'spec.volumes[1].gitRepo.directory: "a/../../b" must be a relative path without ".."',
    ],
    [
      'gitRepo without a repository',
      (p) => p.spec.volumes.push({ name: 'g', gitRepo: { revision: 'main' } }),
      'spec.volumes[1].gitRepo.repository: field is required',
    ],
    [
      'emptyDir mode with the setgid bit',
      (p) => (p.spec.volumes[0].emptyDir = { mode: 0o2777 }),
      'spec.volumes[0].emptyDir.mode: must be between 0 and 1023, got 1535',
    ],
    [
      'sizeLimit',
      (p) => (p.spec.volumes[0].emptyDir = { sizeLimit: '1GB' }),
      'spec.volumes[0].emptyDir.sizeLimit: "1GB" is not a valid quantity',
    ],
    [
      'sizeLimit 0',
      (p) => (p.spec.volumes[0].emptyDir = { sizeLimit: '0' }),
      'spec.volumes[0].emptyDir.sizeLimit: "0" must be greater than 0',
    ],
    // containers
    ['container not an object', (p) => (p.spec.containers[1] = 'app'), 'spec.containers[1]: expected an object, got string'],
    ['container unknown', (p) => (c0(p).foo = 1), 'spec.containers[0].foo: unknown field'],
    [
      'envFrom',
      (p) => (c0(p).envFrom = [{ configMapRef: { name: 'x' } }]),
      'spec.containers[0].envFrom[0].configMapRef.name: no ConfigMap "x" among the documents (set optional: true to run without it)',
    ],
    [
      'terminationMessagePath',
      (p) => (c0(p).terminationMessagePath = '/dev/termination-log'),
      'spec.containers[0].terminationMessagePath: is a Kubernetes field minipod does not support',
    ],
    ['no image', (p) => delete c0(p).image, 'spec.containers[0].image: field is required'],
    ['empty image', (p) => (c0(p).image = ''), 'spec.containers[0].image: field is required'],
    ['image spaces', (p) => (c0(p).image = ' img'), 'spec.containers[0].image: " img" must not have leading or trailing whitespace'],
    ['no container name', (p) => delete p.spec.containers[1].name, 'spec.containers[1].name: field is required'],
    [
      'container name syntax',
      (p) => (p.spec.containers[1].name = 'App'),
      `spec.containers[1].name: "App" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
    ],
    ['duplicate name', (p) => (p.spec.containers[1].name = 'web'), 'spec.containers[1].name: "web" is used twice'],
    ['duplicate with init', (p) => (p.spec.initContainers = [{ name: 'app', image: 'i' }]), 'spec.containers[1].name: "app" is used twice'],
    [
      'imagePullPolicy',
      (p) => (c0(p).imagePullPolicy = 'Sometimes'),
      'spec.containers[0].imagePullPolicy: "Sometimes" is not one of Always, IfNotPresent, Never',
    ],
    ['command type', (p) => (c0(p).command = 'sh -c x'), 'spec.containers[0].command: expected an array, got string'],
    ['args item type', (p) => (c0(p).args = ['a', 2]), 'spec.containers[0].args[1]: expected a string, got number'],
    ['NUL in args', (p) => (c0(p).args = ['a\0b']), 'spec.containers[0].args[0]: must not contain a NUL character'],
    ['huge string', (p) => (c0(p).args = ['x'.repeat(70000)]), 'spec.containers[0].args[0]: is too long (70000 characters, at most 65536)'],
    ['workingDir', (p) => (c0(p).workingDir = 'srv'), 'spec.containers[0].workingDir: "srv" must be an absolute path'],
    ['stdin', (p) => (c0(p).stdin = 1), 'spec.containers[0].stdin: expected a boolean, got number'],
    // env
    ['env no name', (p) => (c0(p).env = [{ value: 'x' }]), 'spec.containers[0].env[0].name: field is required'],
    ['env empty name', (p) => (c0(p).env = [{ name: '' }]), 'spec.containers[0].env[0].name: "" must not be empty'],
    ['env =', (p) => (c0(p).env = [{ name: 'A=B' }]), `spec.containers[0].env[0].name: "A=B" must not contain '='`],
    ['env value type', (p) => (c0(p).env = [{ name: 'A', value: 1 }]), 'spec.containers[0].env[0].value: expected a string, got number'],
    [
      'valueFrom',
      (p) => (c0(p).env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.host' } } }]),
      `spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "spec.host" is not a field the downward API gives an env var (one of metadata.name, metadata.namespace, metadata.uid, spec.nodeName, spec.serviceAccountName, status.podIP, status.podIPs, status.hostIP, status.hostIPs, metadata.labels['KEY'], metadata.annotations['KEY'])`,
    ],
    [
      'fileKeyRef without a volume',
      (p) => (c0(p).env = [{ name: 'A', valueFrom: { fileKeyRef: { path: 'x', key: 'A' } } }]),
      'spec.containers[0].env[0].valueFrom.fileKeyRef.volumeName: field is required',
    ],
    [
      'fileKeyRef on a volume that is not an emptyDir',
      (p) => {
        p.spec.volumes.push({ name: 'h', hostPath: { path: '/srv' } });
        c0(p).env = [{ name: 'A', valueFrom: { fileKeyRef: { volumeName: 'h', path: 'x', key: 'A' } } }];
      },
      'spec.containers[0].env[0].valueFrom.fileKeyRef.volumeName: "h" must be an emptyDir volume',
    ],
    [
      'fileKeyRef path leaving the volume',
      (p) => (c0(p).env = [{ name: 'A', valueFrom: { fileKeyRef: { volumeName: p.spec.volumes[0].name, path: '../x', key: 'A' } } }]),
      'spec.containers[0].env[0].valueFrom.fileKeyRef.path: "../x" must be a relative path without ".."',
    ],
    ['env item null', (p) => (c0(p).env = [null]), 'spec.containers[0].env[0]: expected an object, got null'],
    // volumeMounts
    [
      'mount unknown volume',
      (p) => (c0(p).volumeMounts = [{ name: 'nope', mountPath: '/x' }]),
      'spec.containers[0].volumeMounts[0].name: "nope" is not a volume of the pod (spec.volumes)',
    ],
    [
      'mountPath relative',
      (p) => (c0(p).volumeMounts = [{ name: 'data', mountPath: 'x' }]),
      'spec.containers[0].volumeMounts[0].mountPath: "x" must be an absolute path',
    ],
    [
      'mountPath root',
      (p) => (c0(p).volumeMounts = [{ name: 'data', mountPath: '/x/..' }]),
      `spec.containers[0].volumeMounts[0].mountPath: "/x/.." would cover the container's root filesystem`,
    ],
    [
      'mountPath twice',
      (p) =>
        (c0(p).volumeMounts = [
          { name: 'data', mountPath: '/x' },
          { name: 'data', mountPath: '/x/' },
        ]),
      'spec.containers[0].volumeMounts[1].mountPath: "/x" is mounted twice',
    ],
    [
      'subPath ..',
      (p) => (c0(p).volumeMounts = [{ name: 'data', mountPath: '/x', subPath: 'a/../../etc' }]),
      `spec.containers[0].volumeMounts[0].subPath: "a/../../etc" must not contain '..'`,
    ],
    [
      'subPath absolute',
      (p) => (c0(p).volumeMounts = [{ name: 'data', mountPath: '/x', subPath: '/etc' }]),
      'spec.containers[0].volumeMounts[0].subPath: "/etc" must be a relative path',
    ],
    [
      'mountPropagation',
      (p) => (c0(p).volumeMounts = [{ name: 'data', mountPath: '/x', mountPropagation: 'Bidirectional' }]),
      'spec.containers[0].volumeMounts[0].mountPropagation: is a Kubernetes field minipod does not support',
    ],
    [
      'readOnly type',
      (p) => (c0(p).volumeMounts = [{ name: 'data', mountPath: '/x', readOnly: 'true' }]),
      'spec.containers[0].volumeMounts[0].readOnly: expected a boolean, got string',
    ],
    // resources
    [
      'bad memory',
      (p) => (p.spec.containers[1].resources = { limits: { memory: '12XB' } }),
      'spec.containers[1].resources.limits.memory: "12XB" is not a valid quantity',
    ],
    [
      'negative cpu',
      (p) => (c0(p).resources = { requests: { cpu: '-1' } }),
      'spec.containers[0].resources.requests.cpu: "-1" must not be negative',
    ],
    [
      'quantity type',
      (p) => (c0(p).resources = { limits: { cpu: true } }),
      'spec.containers[0].resources.limits.cpu: expected a quantity (string or number), got boolean',
    ],
    [
      'cpu 0',
      (p) => (c0(p).resources = { limits: { cpu: '0' } }),
      'spec.containers[0].resources.limits.cpu: 0 is not a usable cpu limit: the container could never run (omit the limit for no limit)',
    ],
    [
      'cpu too small',
      (p) => (c0(p).resources = { limits: { cpu: '5m' } }),
      `spec.containers[0].resources.limits.cpu: 5m is below the minimum of 10m: the kernel's minimum CPU quota is 1ms per 100ms period`,
    ],
    [
      'memory too small',
      (p) => (c0(p).resources = { limits: { memory: '4Mi' } }),
      'spec.containers[0].resources.limits.memory: 4Mi is below the minimum of 6Mi (as docker and podman): the container would be killed at once',
    ],
    [
      'request over limit',
      (p) => (c0(p).resources = { limits: { cpu: '1' }, requests: { cpu: '1500m' } }),
      'spec.containers[0].resources.requests.cpu: 1500m must be less than or equal to the cpu limit (1)',
    ],
    [
      'memory request over limit',
      (p) => (c0(p).resources = { limits: { memory: '64Mi' }, requests: { memory: '1Gi' } }),
      'spec.containers[0].resources.requests.memory: 1Gi must be less than or equal to the memory limit (64Mi)',
    ],
    [
      'hugepages',
      (p) => (c0(p).resources = { limits: { 'hugepages-2Mi': '2Mi' } }),
      'spec.containers[0].resources.limits.hugepages-2Mi: is a Kubernetes resource minipod does not support',
    ],
    [
      'extended resource',
      (p) => (c0(p).resources = { limits: { 'nvidia.com/gpu': 1 } }),
      'spec.containers[0].resources.limits["nvidia.com/gpu"]: is a Kubernetes resource minipod does not support',
    ],
    ['resource typo', (p) => (c0(p).resources = { limits: { cpus: 1 } }), 'spec.containers[0].resources.limits.cpus: unknown field'],
    [
      'resources typo',
      (p) => (c0(p).resources = { limit: { cpu: 1 } }),
      'spec.containers[0].resources.limit: unknown field (did you mean "limits"?)',
    ],
    [
      'claims',
      (p) => (c0(p).resources = { claims: [{ name: 'gpu' }] }),
      'spec.containers[0].resources.claims: is a Kubernetes field minipod does not support',
    ],
    // securityContext
    [
      'runAsUser range',
      (p) => (c0(p).securityContext = { runAsUser: 2 ** 32 - 1 }),
      'spec.containers[0].securityContext.runAsUser: must be between 0 and 4294967294, got 4294967295',
    ],
    [
      'runAsGroup negative',
      (p) => (c0(p).securityContext = { runAsGroup: -1 }),
      'spec.containers[0].securityContext.runAsGroup: must be between 0 and 4294967294, got -1',
    ],
    [
      'seccompProfile type',
      (p) => (c0(p).securityContext = { seccompProfile: { type: 'Strict' } }),
      'spec.containers[0].securityContext.seccompProfile.type: "Strict" is not one of RuntimeDefault, Unconfined, Localhost',
    ],
    [
      'procMount Unmasked without a user namespace',
      (p) => (c0(p).securityContext = { procMount: 'Unmasked' }),
      'spec.containers[0].securityContext.procMount: Unmasked requires spec.hostUsers: false (a user namespace), as in Kubernetes',
    ],
    [
      'procMount value',
      (p) => (c0(p).securityContext = { procMount: 'Raw' }),
      'spec.containers[0].securityContext.procMount: "Raw" is not one of Default, Unmasked',
    ],
    [
      'appArmorProfile type',
      (p) => (c0(p).securityContext = { appArmorProfile: { type: 'Strict' } }),
      'spec.containers[0].securityContext.appArmorProfile.type: "Strict" is not one of RuntimeDefault, Unconfined, Localhost',
    ],
    [
      'appArmorProfile Localhost without a name',
      (p) => (c0(p).securityContext = { appArmorProfile: { type: 'Localhost' } }),
      'spec.containers[0].securityContext.appArmorProfile.localhostProfile: field is required when type is Localhost',
    ],
    [
      'apparmor annotation',
      (p) => ((p.metadata as Record<string, unknown>).annotations = { 'container.apparmor.security.beta.kubernetes.io/web': 'strict' }),
      'metadata.annotations["container.apparmor.security.beta.kubernetes.io/web"]: "strict" must be runtime/default, unconfined or localhost/<profile>',
    ],
    [
      'seLinuxOptions typo',
      (p) => (c0(p).securityContext = { seLinuxOptions: { typ: 'x' } }),
      'spec.containers[0].securityContext.seLinuxOptions.typ: unknown field (did you mean "type"?)',
    ],
    [
      'capability',
      (p) => (c0(p).securityContext = { capabilities: { add: ['NET_ADMIN', 'FLY'] } }),
      'spec.containers[0].securityContext.capabilities.add[1]: "FLY" is not a Linux capability',
    ],
    [
      'CAP_ALL',
      (p) => (c0(p).securityContext = { capabilities: { drop: ['CAP_ALL'] } }),
      'spec.containers[0].securityContext.capabilities.drop[0]: "CAP_ALL" is not a Linux capability',
    ],
    [
      'privileged without escalation',
      (p) => (c0(p).securityContext = { privileged: true, allowPrivilegeEscalation: false }),
      'spec.containers[0].securityContext.allowPrivilegeEscalation: cannot be false when privileged is true',
    ],
    [
      'SYS_ADMIN without escalation',
      (p) => (c0(p).securityContext = { allowPrivilegeEscalation: false, capabilities: { add: ['sys_admin'] } }),
      'spec.containers[0].securityContext.allowPrivilegeEscalation: cannot be false when capabilities.add has SYS_ADMIN',
    ],
    [
      'runAsNonRoot with root',
      (p) => (c0(p).securityContext = { runAsNonRoot: true, runAsUser: 0 }),
      'spec.containers[0].securityContext.runAsUser: 0 (root) contradicts runAsNonRoot: true',
    ],
    // ports
    ['no containerPort', (p) => (c0(p).ports = [{ hostPort: 80 }]), 'spec.containers[0].ports[0].containerPort: field is required'],
    [
      'containerPort range',
      (p) => (c0(p).ports = [{ containerPort: 70000 }]),
      'spec.containers[0].ports[0].containerPort: must be between 1 and 65535, got 70000',
    ],
    [
      'containerPort string',
      (p) => (c0(p).ports = [{ containerPort: '80' }]),
      'spec.containers[0].ports[0].containerPort: expected an integer, got string',
    ],
    [
      'hostIP',
      (p) => (c0(p).ports = [{ containerPort: 80, hostPort: 80, hostIP: 'localhost' }]),
      'spec.containers[0].ports[0].hostIP: "localhost" is not an IP address',
    ],
    [
      'hostIP without hostPort',
      (p) => (c0(p).ports = [{ containerPort: 80, hostIP: '127.0.0.1' }]),
      'spec.containers[0].ports[0].hostIP: is set but hostPort is not: nothing would be published',
    ],
    [
      'SCTP',
      (p) => (c0(p).ports = [{ containerPort: 80, protocol: 'SCTP' }]),
      'spec.containers[0].ports[0].protocol: "SCTP" is not supported by minipod',
    ],
    [
      'protocol case',
      (p) => (c0(p).ports = [{ containerPort: 80, protocol: 'tcp' }]),
      'spec.containers[0].ports[0].protocol: "tcp" is not one of TCP, UDP',
    ],
    [
      'port name',
      (p) => (c0(p).ports = [{ containerPort: 80, name: 'HTTP' }]),
      `spec.containers[0].ports[0].name: "HTTP" must be lower-case letters, digits and single '-' between them`,
    ],
    [
      'port name twice',
      (p) =>
        (c0(p).ports = [
          { containerPort: 80, name: 'web' },
          { containerPort: 81, name: 'web' },
        ]),
      'spec.containers[0].ports[1].name: "web" is used twice',
    ],
    [
      'hostPort clash',
      (p) => {
        c0(p).ports = [{ containerPort: 80, hostPort: 8080 }];
        p.spec.containers[1].ports = [{ containerPort: 81, hostPort: 8080, hostIP: '127.0.0.1' }];
      },
      'spec.containers[1].ports[0].hostPort: 8080/TCP is already published by spec.containers[0].ports[0]',
    ],
    [
      'hostNetwork port mismatch',
      (p) => {
        p.spec.hostNetwork = true;
        c0(p).ports = [{ containerPort: 80, hostPort: 8080 }];
      },
      'spec.containers[0].ports[0].hostPort: 8080 must equal containerPort (80) with spec.hostNetwork: true',
    ],
    [
      'network none publish',
      (p) => {
        p.metadata.annotations = { 'minipod.io/network': 'none' };
        c0(p).ports = [{ containerPort: 80, hostPort: 8080 }];
      },
      'spec.containers[0].ports[0].hostPort: cannot be published with annotation minipod.io/network: none',
    ],
    [
      'network none with hostNetwork',
      (p) => {
        p.metadata.annotations = { 'minipod.io/network': 'none' };
        p.spec.hostNetwork = true;
      },
      'metadata.annotations["minipod.io/network"]: "none" contradicts spec.hostNetwork: true',
    ],
    // probes and lifecycle
    [
      'probe without handler',
      (p) => (c0(p).livenessProbe = { periodSeconds: 5 }),
      'spec.containers[0].livenessProbe: must specify exactly one of exec, httpGet, tcpSocket or grpc',
    ],
    [
      'probe two handlers',
      (p) => (c0(p).readinessProbe = { exec: { command: ['true'] }, tcpSocket: { port: 80 } }),
      'spec.containers[0].readinessProbe: must specify exactly one of exec, httpGet, tcpSocket or grpc (got exec and tcpSocket)',
    ],
    [
      'hook with grpc',
      (p) => (c0(p).lifecycle = { postStart: { grpc: { port: 80 } } }),
      'spec.containers[0].lifecycle.postStart.grpc: unknown field',
    ],
    [
      'grpc named port',
      (p) => (c0(p).livenessProbe = { grpc: { port: 'grpc' } }),
      'spec.containers[0].livenessProbe.grpc.port: expected an integer, got string',
    ],
    [
      'grpc port range',
      (p) => (c0(p).livenessProbe = { grpc: { port: 70000 } }),
      'spec.containers[0].livenessProbe.grpc.port: must be between 1 and 65535, got 70000',
    ],
    [
      'grpc service type',
      (p) => (c0(p).livenessProbe = { grpc: { port: 80, service: 5 } }),
      'spec.containers[0].livenessProbe.grpc.service: expected a string, got number',
    ],
    [
      'unknown named port',
      (p) => (c0(p).livenessProbe = { httpGet: { port: 'https' } }),
      'spec.containers[0].livenessProbe.httpGet.port: "https" is not the name of a port of container "web"',
    ],
    [
      'probe port range',
      (p) => (c0(p).livenessProbe = { tcpSocket: { port: 0 } }),
      'spec.containers[0].livenessProbe.tcpSocket.port: must be between 1 and 65535, got 0',
    ],
    [
      'probe period',
      (p) => (c0(p).livenessProbe = { tcpSocket: { port: 80 }, periodSeconds: 0 }),
      'spec.containers[0].livenessProbe.periodSeconds: must be between 1 and 2147483647, got 0',
    ],
    [
      'liveness successThreshold',
      (p) => (c0(p).livenessProbe = { tcpSocket: { port: 80 }, successThreshold: 2 }),
      'spec.containers[0].livenessProbe.successThreshold: must be 1 for a livenessProbe, got 2',
    ],
    [
      'startup successThreshold',
      (p) => (c0(p).startupProbe = { tcpSocket: { port: 80 }, successThreshold: 3 }),
      'spec.containers[0].startupProbe.successThreshold: must be 1 for a startupProbe, got 3',
    ],
    [
      'exec empty',
      (p) => (c0(p).livenessProbe = { exec: { command: [] } }),
      'spec.containers[0].livenessProbe.exec.command: must not be empty',
    ],
    [
      'httpGet scheme',
      (p) => (c0(p).livenessProbe = { httpGet: { port: 80, scheme: 'FTP' } }),
      'spec.containers[0].livenessProbe.httpGet.scheme: "FTP" is not one of HTTP, HTTPS',
    ],
    [
      'header name',
      (p) => (c0(p).livenessProbe = { httpGet: { port: 80, httpHeaders: [{ name: 'a b', value: 'x' }] } }),
      'spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name: "a b" is not a valid HTTP header name',
    ],
    [
      'lifecycle sleep',
      (p) => (c0(p).lifecycle = { preStop: { sleep: { seconds: 5 } } }),
      'spec.containers[0].lifecycle.preStop.sleep: is a Kubernetes field minipod does not support',
    ],
    [
      'lifecycle empty handler',
      (p) => (c0(p).lifecycle = { postStart: {} }),
      'spec.containers[0].lifecycle.postStart: must specify exactly one of exec, httpGet or tcpSocket',
    ],
    [
      'lifecycle typo',
      (p) => (c0(p).lifecycle = { preStart: { exec: { command: ['x'] } } }),
      'spec.containers[0].lifecycle.preStart: unknown field',
    ],
    [
      'init with probe',
      (p) => (p.spec.initContainers = [{ name: 'init', image: 'i', readinessProbe: { exec: { command: ['true'] } } }]),
      'spec.initContainers[0].readinessProbe: must not be set for an init container (unless it is a sidecar: restartPolicy: Always)',
    ],
    [
      'init with lifecycle',
      (p) => (p.spec.initContainers = [{ name: 'init', image: 'i', lifecycle: { preStop: { exec: { command: ['true'] } } } }]),
      'spec.initContainers[0].lifecycle: must not be set for an init container (unless it is a sidecar: restartPolicy: Always)',
    ],
    [
      'init restartPolicy other than Always',
      (p) => (p.spec.initContainers = [{ name: 'init', image: 'i', restartPolicy: 'OnFailure' }]),
      'spec.initContainers[0].restartPolicy: "OnFailure" is not one of Always',
    ],
    [
      'app container restartPolicy',
      (p) => (c0(p).restartPolicy = 'Always'),
      'spec.containers[0].restartPolicy: is only allowed for an init container (restartPolicy: Always makes it a sidecar)',
    ],
  ];

  it.each(cases)('%s', (_name, mutate, message) => {
    expect(messageFor(mutate)).toBe(message);
  });

  it('the error carries the field path and every issue found', () => {
    const pod = base();
    c0(pod).foo = 1;
    pod.spec.containers[1].image = 5;
    const err = errorOf(JSON.stringify(pod)) as ManifestError;
    expect(err).toBeInstanceOf(ManifestError);
    expect(err.code).toBe('manifest.invalid');
    expect(err.field).toBe('spec.containers[0].foo');
    expect(err.issues.map((i) => i.path)).toEqual(['spec.containers[0].foo', 'spec.containers[1].image']);
  });

  it('a newline inside a value does not break the one-line message', () => {
    expect(messageFor((p) => (p.metadata.name = 'a\nb'))).toBe(
      `metadata.name: "a\\nb" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
    );
  });

  it('a key named __proto__ is an unknown field, not a prototype', () => {
    expect(errorOf('{"apiVersion":"v1","kind":"Pod","__proto__":{"x":1}}').message).toBe('__proto__: unknown field');
  });
});

describe('refused files', () => {
  const ok = stringify(base());
  const cases: [string, string, string][] = [
    ['empty', '', 'pod.yaml: manifest is empty'],
    ['comment only', '# nothing\n', 'pod.yaml: manifest is empty'],
    ['not an object', '- a\n- b\n', 'a manifest must be an object (a Pod), got array'],
    ['scalar', 'hello\n', 'a manifest must be an object (a Pod), got string'],
    ['two documents', `${ok}---\n${ok}`, 'pod.yaml:17:1: holds 2 YAML documents; this reads one'],
    ['duplicate key', 'apiVersion: v1\nkind: Pod\nkind: Pod\n', 'pod.yaml:3:1: not valid YAML or JSON: Map keys must be unique'],
    [
      'duplicate JSON key',
      '{"apiVersion": "v1", "kind": "Pod", "apiVersion": "v1"}',
      'pod.yaml:1:37: not valid YAML or JSON: Map keys must be unique',
    ],
    [
      'syntax',
      'apiVersion: v1\nkind: [Pod\n',
      'pod.yaml:3:1: not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    ['tabs', 'apiVersion: v1\nmetadata:\n\tname: x\n', 'pod.yaml:3:1: not valid YAML or JSON: Tabs are not allowed as indentation'],
    ['custom tag', 'apiVersion: v1\nkind: !pod Pod\n', 'pod.yaml:2:7: not valid YAML or JSON: Unresolved tag: !pod'],
    ['binary tag', 'apiVersion: v1\nkind: !!binary UG9k\n', 'pod.yaml:2:16: YAML tag !!binary is not allowed in a manifest'],
    ['complex key', 'apiVersion: v1\n? [a, b]\n: c\n', 'pod.yaml:2:3: a map key must be a plain string'],
    ['too big', `# ${'x'.repeat(1024 * 1024)}\n`, 'pod.yaml: manifest is larger than 1048576 bytes'],
    [
      'alias bomb',
      [
        'a: &a [x,x,x,x,x,x,x,x,x]',
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
        'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      ].join('\n'),
      'pod.yaml:3:29: more than 16 YAML aliases',
    ],
    ['deep nesting', `${'['.repeat(3000)}${']'.repeat(3000)}`, 'not valid YAML or JSON'],
    ['nesting', `apiVersion: v1\nkind: Pod\nx: ${'['.repeat(100)}${']'.repeat(100)}\n`, 'pod.yaml:3:68: nested more than 64 levels deep'],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    const err = errorOf(text);
    if (_name === 'deep nesting') expect(err.message).toContain(message);
    else expect(err.message).toBe(message);
  });

  it('a few aliases are fine (YAML anchors for shared blocks)', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: a
      image: img
      env: &env
        - {name: A, value: "1"}
    - name: b
      image: img
      env: *env
`;
    const pod = parsePodManifest(text, { manifestDir: '/' });
    expect(pod.containers[1]!.env).toEqual([{ name: 'A', value: '1' }]);
  });

  it('YAML 1.1 booleans are strings under the 1.2 core schema', () => {
    expect(messageFor((p) => (p.spec.hostNetwork = 'yes'))).toBe('spec.hostNetwork: expected a boolean, got string');
    const text = stringify(base()).replace('kind: Pod', 'kind: Pod\nspec2: yes');
    expect(errorOf(text).message).toBe('spec2: unknown field (did you mean "spec"?)');
  });

  it('.nan is not an integer', () => {
    const text = stringify(base()).replace('spec:', 'spec:\n  terminationGracePeriodSeconds: .nan');
    expect(errorOf(text).message).toBe('spec.terminationGracePeriodSeconds: expected an integer, got NaN');
  });
});
