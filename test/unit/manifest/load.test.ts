import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadPodManifest, parsePodManifest, type PodSpec } from '../../../src/manifest/index.js';
import { UserError } from '../../../src/errors.js';

const FULL_YAML = `
apiVersion: v1
kind: Pod
metadata:
  name: blog
  namespace: default
  labels:
    app: blog
    example.com/tier: web
  annotations:
    minipod.io/pids-max: "512"
    minipod.io/network: bridge
    minipod.io/swap: "true"
    description: "a blog"
spec:
  hostname: myblog
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 5
  shareProcessNamespace: false
  hostNetwork: false
  dnsPolicy: None
  dnsConfig:
    nameservers: [1.1.1.1, "2606:4700:4700::1111"]
    searches: [example.com]
    options:
      - name: ndots
        value: "2"
      - name: edns0
  resources:
    limits: { cpu: "2", memory: 1Gi }
  securityContext:
    runAsUser: 1000
    fsGroup: 2000
    fsGroupChangePolicy: OnRootMismatch
    supplementalGroups: [3000, 3001, 3000]
    supplementalGroupsPolicy: Strict
    sysctls:
      - { name: net.ipv4.ip_local_port_range, value: "1024 65535" }
      - { name: kernel/shm_rmid_forced, value: "1" }
      - { name: net/ipv4/conf/eth0.100/rp_filter, value: "0" }
  hostAliases:
    - ip: 127.0.0.1
      hostnames: [foo.local, bar.local]
    - ip: "fd00::1"
      hostnames: [six.local]
  volumes:
    - name: data
      emptyDir: {}
    - name: cache
      emptyDir: { medium: Memory, sizeLimit: 64Mi, mode: 0o1770 }
    - name: site
      gitRepo: { repository: "https://example.com/site.git", revision: 0123abc, directory: . }
    - name: conf
      hostPath: { path: /etc/blog//conf/, type: Directory }
    - name: unused
      hostPath: { path: /srv }
  initContainers:
    - name: setup
      image: ./rootfs/busybox.tar
      command: [sh, -c, "echo init"]
      volumeMounts:
        - { name: data, mountPath: /data }
    - name: proxy
      image: ./rootfs/busybox.tar
      restartPolicy: Always
      startupProbe:
        grpc: { port: 9000 }
      readinessProbe:
        grpc: { port: 9000, service: proxy.v1 }
      lifecycle:
        postStart:
          exec: { command: ["true"] }
  containers:
    - name: web
      image: ./rootfs/nginx.tar
      imagePullPolicy: Never
      args: ["-g", "daemon off;"]
      env:
        - name: MODE
          value: prod
        - name: EMPTY
      workingDir: /srv/www/
      ports:
        - name: http
          containerPort: 80
          hostPort: 8080
          hostIP: 127.0.0.1
        - containerPort: 53
          protocol: UDP
      volumeMounts:
        - name: data
          mountPath: /usr/share/nginx/html/
          readOnly: true
          subPath: site/./public/
        - name: conf
          mountPath: /etc/nginx/conf.d
      resources:
        limits:
          cpu: 500m
          memory: 128Mi
        requests:
          cpu: 0.1
      securityContext:
        runAsUser: 0
        runAsGroup: 0
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities:
          add: [net_bind_service, CAP_CHOWN]
          drop: [ALL]
      livenessProbe:
        httpGet:
          port: http
          httpHeaders:
            - name: X-Probe
              value: "1"
      readinessProbe:
        tcpSocket: { port: 80 }
        periodSeconds: 2
        successThreshold: 2
      lifecycle:
        preStop:
          exec:
            command: [nginx, -s, quit]
      stdin: true
      tty: true
    - name: app
      image: /abs/app
      command: []
      startupProbe:
        exec: { command: [cat, /tmp/ready] }
        failureThreshold: 30
`;

const DEFAULT_SECURITY = {
  readOnlyRootFilesystem: false,
  allowPrivilegeEscalation: true,
  privileged: false,
  capabilities: { add: [], drop: [] },
  procMount: 'Default',
};

/** minipod's default profile, and where the container would have set it. */
function runtimeDefault(at: string) {
  return { type: 'RuntimeDefault' as const, field: `spec.${at}.securityContext.seccompProfile` };
}

const FULL_POD: PodSpec = {
  apiVersion: 'v1',
  kind: 'Pod',
  name: 'blog',
  namespace: 'default',
  labels: { app: 'blog', 'example.com/tier': 'web' },
  annotations: {
    'minipod.io/pids-max': '512',
    'minipod.io/network': 'bridge',
    'minipod.io/swap': 'true',
    description: 'a blog',
  },
  minipod: { pidsMax: 512, network: 'bridge', swap: true },
  hostname: 'myblog',
  restartPolicy: 'OnFailure',
  terminationGracePeriodSeconds: 5,
  shareProcessNamespace: false,
  hostNetwork: false,
  dnsPolicy: 'None',
  hostAliases: [
    { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
    { ip: 'fd00::1', hostnames: ['six.local'] },
  ],
  securityContext: {
    fsGroup: 2000,
    fsGroupChangePolicy: 'OnRootMismatch',
    supplementalGroups: [3000, 3001],
    supplementalGroupsPolicy: 'Strict',
    sysctls: [
      { name: 'net.ipv4.ip_local_port_range', value: '1024 65535' },
      { name: 'kernel.shm_rmid_forced', value: '1' },
      { name: 'net.ipv4.conf.eth0/100.rp_filter', value: '0' },
    ],
  },
  dnsConfig: {
    nameservers: ['1.1.1.1', '2606:4700:4700::1111'],
    searches: ['example.com'],
    options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
  },
  resources: {
    limits: { cpuMilli: 2000, memoryBytes: 2 ** 30 },
    requests: { cpuMilli: 2000, memoryBytes: 2 ** 30 },
  },
  volumes: [
    { name: 'data', source: { kind: 'emptyDir', medium: '' } },
    { name: 'cache', source: { kind: 'emptyDir', medium: 'Memory', sizeLimitBytes: 64 * 2 ** 20, mode: 0o1770 } },
    { name: 'site', source: { kind: 'gitRepo', repository: 'https://example.com/site.git', revision: '0123abc', directory: '.' } },
    { name: 'conf', source: { kind: 'hostPath', path: '/etc/blog/conf', type: 'Directory' } },
    { name: 'unused', source: { kind: 'hostPath', path: '/srv', type: '' } },
  ],
  initContainers: [
    {
      name: 'setup',
      image: './rootfs/busybox.tar',
      command: ['sh', '-c', 'echo init'],
      env: [],
      volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: false }],
      resources: { limits: {}, requests: {} },
      // spec.securityContext.runAsUser applies where the container sets none.
      securityContext: { ...DEFAULT_SECURITY, runAsUser: 1000, seccompProfile: runtimeDefault('initContainers[0]') },
      ports: [],
      stdin: false,
      tty: false,
    },
    {
      name: 'proxy',
      image: './rootfs/busybox.tar',
      env: [],
      volumeMounts: [],
      resources: { limits: {}, requests: {} },
      securityContext: { ...DEFAULT_SECURITY, runAsUser: 1000, seccompProfile: runtimeDefault('initContainers[1]') },
      ports: [],
      restartPolicy: 'Always',
      startupProbe: {
        grpc: { port: 9000, service: '' },
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
      readinessProbe: {
        grpc: { port: 9000, service: 'proxy.v1' },
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
      lifecycle: { postStart: { exec: { command: ['true'] } } },
      stdin: false,
      tty: false,
    },
  ],
  containers: [
    {
      name: 'web',
      image: './rootfs/nginx.tar',
      imagePullPolicy: 'Never',
      args: ['-g', 'daemon off;'],
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'EMPTY', value: '' },
      ],
      workingDir: '/srv/www',
      ports: [
        { name: 'http', containerPort: 80, hostPort: 8080, hostIP: '127.0.0.1', protocol: 'TCP' },
        { containerPort: 53, protocol: 'UDP' },
      ],
      volumeMounts: [
        { name: 'data', mountPath: '/usr/share/nginx/html', readOnly: true, subPath: 'site/public' },
        { name: 'conf', mountPath: '/etc/nginx/conf.d', readOnly: false },
      ],
      resources: {
        limits: { cpuMilli: 500, memoryBytes: 128 * 2 ** 20 },
        requests: { cpuMilli: 100, memoryBytes: 128 * 2 ** 20 },
      },
      securityContext: {
        runAsUser: 0,
        runAsGroup: 0,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { add: ['NET_BIND_SERVICE', 'CHOWN'], drop: ['ALL'] },
        seccompProfile: runtimeDefault('containers[0]'),
        procMount: 'Default',
      },
      livenessProbe: {
        httpGet: { path: '/', port: 80, scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: '1' }] },
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
      readinessProbe: {
        tcpSocket: { port: 80 },
        initialDelaySeconds: 0,
        periodSeconds: 2,
        timeoutSeconds: 1,
        successThreshold: 2,
        failureThreshold: 3,
      },
      lifecycle: { preStop: { exec: { command: ['nginx', '-s', 'quit'] } } },
      stdin: true,
      tty: true,
    },
    {
      name: 'app',
      image: '/abs/app',
      env: [],
      volumeMounts: [],
      resources: { limits: {}, requests: {} },
      securityContext: { ...DEFAULT_SECURITY, runAsUser: 1000, seccompProfile: runtimeDefault('containers[1]') },
      ports: [],
      startupProbe: {
        exec: { command: ['cat', '/tmp/ready'] },
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 30,
      },
      stdin: false,
      tty: false,
    },
  ],
  manifestDir: '/work/manifests',
};

describe('parsePodManifest: a full manifest', () => {
  it('YAML gives the expected PodSpec with defaults', () => {
    expect(parsePodManifest(FULL_YAML, { manifestDir: '/work/manifests' })).toStrictEqual(FULL_POD);
  });

  it('JSON gives the same PodSpec', () => {
    const json = JSON.stringify(parseYamlPlain(FULL_YAML), null, 2);
    expect(json.trimStart().startsWith('{')).toBe(true);
    expect(parsePodManifest(json, { manifestDir: '/work/manifests' })).toStrictEqual(FULL_POD);
  });

  it('a minimal pod gets every default', () => {
    const pod = parsePodManifest('apiVersion: v1\nkind: Pod\nmetadata: {name: tiny}\nspec:\n  containers: [{name: c, image: img}]\n', {
      manifestDir: 'rel/dir',
    });
    expect(pod).toStrictEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'tiny',
      labels: {},
      annotations: {},
      minipod: { network: 'bridge', swap: false },
      hostname: 'tiny',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      shareProcessNamespace: true,
      hostNetwork: false,
      dnsPolicy: 'ClusterFirst',
      hostAliases: [],
      securityContext: { fsGroupChangePolicy: 'Always', supplementalGroups: [], supplementalGroupsPolicy: 'Merge', sysctls: [] },
      initContainers: [],
      containers: [
        {
          name: 'c',
          image: 'img',
          env: [],
          volumeMounts: [],
          resources: { limits: {}, requests: {} },
          securityContext: { ...DEFAULT_SECURITY, seccompProfile: runtimeDefault('containers[0]') },
          ports: [],
          stdin: false,
          tty: false,
        },
      ],
      volumes: [],
      manifestDir: path.resolve('rel/dir'),
    } satisfies PodSpec);
  });

  it('accepts what `kubectl run --dry-run=client -o yaml` writes', () => {
    const text = `apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: nginx
  name: nginx
spec:
  containers:
  - image: nginx
    name: nginx
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
`;
    const pod = parsePodManifest(text, { manifestDir: '/' });
    expect(pod.name).toBe('nginx');
    expect(pod.labels).toEqual({ run: 'nginx' });
  });

  it('numbers as quantities, hostPort 0 as unpublished, a named port in a lifecycle hook', () => {
    const pod = parsePodManifest(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'i',
              resources: { limits: { memory: 67108864, cpu: 1.5, 'ephemeral-storage': '1G' } },
              ports: [{ containerPort: 8080, hostPort: 0, name: 'web' }],
              lifecycle: { postStart: { tcpSocket: { port: 'web' } } },
            },
          ],
        },
      }),
      { manifestDir: '/' },
    );
    const c = pod.containers[0]!;
    expect(c.resources.limits).toEqual({ memoryBytes: 64 * 2 ** 20, cpuMilli: 1500, ephemeralStorageBytes: 1e9 });
    expect(c.resources.requests).toEqual(c.resources.limits);
    expect(c.ports).toEqual([{ containerPort: 8080, name: 'web', protocol: 'TCP' }]);
    expect(c.lifecycle).toEqual({ postStart: { tcpSocket: { port: 8080 } } });
  });
});

describe('loadPodManifest', () => {
  it('reads a file and sets manifestDir to its absolute folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-manifest-'));
    try {
      const file = path.join(dir, 'pod.yaml');
      fs.writeFileSync(file, FULL_YAML);
      const pod = loadPodManifest(path.relative(process.cwd(), file));
      expect(pod.manifestDir).toBe(dir);
      expect(pod.containers.map((c) => c.name)).toEqual(['web', 'app']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing file is a one-line user error', () => {
    let err: unknown;
    try {
      loadPodManifest('/nonexistent/pod.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(125);
    expect((err as Error).message).toBe('/nonexistent/pod.yaml: cannot read manifest: no such file');
  });

  it('refuses a file over 1 MiB without parsing it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-manifest-'));
    try {
      const file = path.join(dir, 'big.yaml');
      fs.writeFileSync(file, `# ${'x'.repeat(1024 * 1024)}\n`);
      expect(() => loadPodManifest(file)).toThrow(`${file}: manifest is larger than 1048576 bytes`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function parseYamlPlain(text: string): unknown {
  // The JSON variant is produced by the yaml package's own reader, independent of the code under test.
  return JSON.parse(JSON.stringify(parseYaml(text)));
}
