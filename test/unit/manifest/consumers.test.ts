import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { decodeManifestBundle, loadManifestBundle } from '../../../src/manifest/bundle.js';
import { formatIssue } from '../../../src/manifest/issues.js';
import { withoutSecretData } from '../../../src/manifest/redact.js';
import type { PodSpec } from '../../../src/manifest/types.js';
import { containerEnv } from '../../../src/plan/container.js';
import { formatMap, resolveDownward, type DownwardValues } from '../../../src/plan/downward.js';
import { dataDirName, planFileVolume } from '../../../src/pod/file-volumes.js';

type Json = Record<string, any>;

const CONFIG = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg' },
  data: { 'app.conf': 'x=1\n', mode: 'fast', 'log.level': 'debug' },
};
const SECRET = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'hunter2', user: 'admin' } };

function pod(mutate: (p: Json) => void): Json {
  const p: Json = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web', tier: 'front' }, annotations: { owner: 'me' } },
    spec: { containers: [{ name: 'app', image: 'img', resources: { limits: { cpu: '500m', memory: '64Mi' } } }], volumes: [] },
  };
  mutate(p);
  return p;
}

function text(...docs: Json[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}

function load(...docs: Json[]): PodSpec {
  const { bundle } = loadManifestBundle([{ source: 'all.yaml', path: '/m/all.yaml', text: text(...docs) }]);
  return bundle.pods[0]!;
}

function errors(...docs: Json[]): string[] {
  const r = decodeManifestBundle([{ source: 'all.yaml', path: '/m/all.yaml', text: text(...docs) }]);
  return r.errors.map(formatIssue);
}

const VALUES: DownwardValues = {
  uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
  podIPs: ['10.88.0.5'],
  hostIPs: ['192.168.1.10'],
  nodeName: 'host1',
  allocatable: { cpuMilli: 4000, memoryBytes: 8 * 1024 ** 3, ephemeralStorageBytes: 100e9 },
};

describe('env from objects and the downward API', () => {
  it('resolves configMapKeyRef, secretKeyRef, envFrom with prefix, fieldRef and resourceFieldRef', () => {
    const p = load(
      CONFIG,
      SECRET,
      pod((x) => {
        x.spec.containers[0].envFrom = [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'db' } }];
        x.spec.containers[0].env = [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          { name: 'GONE', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
          { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'EPH', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage', divisor: '1G' } } },
          { name: 'REQ_MEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
          { name: 'LIT', value: '$(MODE)-$(NOPE)' },
        ];
      }),
    );
    const env = containerEnv(p, p.containers[0]!, { env: ['PATH=/bin'] }, VALUES);
    expect(env).toEqual([
      'PATH=/bin',
      'HOSTNAME=web',
      'CFG_app.conf=x=1\n',
      'CFG_log.level=debug',
      'CFG_mode=fast',
      'password=hunter2',
      'user=admin',
      'MODE=fast',
      'PASS=hunter2',
      'NAME=web',
      'NS=shop',
      `UID=${VALUES.uid}`,
      'TIER=front',
      'IP=10.88.0.5',
      'HOST_IP=192.168.1.10',
      'NODE=host1',
      'SA=default',
      'CPU=1',
      'CPU_M=500',
      'MEM_MI=64',
      'EPH=100',
      `REQ_MEM=${64 * 1024 * 1024}`,
      'LIT=fast-$(NOPE)',
    ]);
  });

  it('values from objects are not $(VAR)-expanded, as kubelet', () => {
    const cm = { ...CONFIG, data: { v: '$(HOME)' } };
    const p = load(
      cm,
      pod(
        (x) =>
          (x.spec.containers[0].env = [
            { name: 'HOME', value: '/h' },
            { name: 'V', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'v' } } },
          ]),
      ),
    );
    expect(containerEnv(p, p.containers[0]!, {}, VALUES)).toContain('V=$(HOME)');
  });

  it('names the field of a missing object or key, unless optional', () => {
    const e = errors(
      CONFIG,
      pod((x) => {
        x.spec.containers[0].env = [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nokey' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'nosecret', key: 'k' } } },
          { name: 'C', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'D', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '2' } } },
          { name: 'E', valueFrom: { resourceFieldRef: { containerName: 'other', resource: 'limits.memory' } } },
        ];
        x.spec.containers[0].envFrom = [{ secretRef: { name: 'nosecret' } }, { secretRef: { name: 'nosecret', optional: true } }];
      }),
    );
    expect(e).toEqual([
      'all.yaml: Pod "web": spec.containers[0].envFrom[0].secretRef.name: no Secret "nosecret" among the documents (set optional: true to run without it)',
      'all.yaml: Pod "web": spec.containers[0].env[0].valueFrom.configMapKeyRef.key: ConfigMap "cfg" has no key "nokey" (set optional: true to run without it)',
      'all.yaml: Pod "web": spec.containers[0].env[1].valueFrom.secretKeyRef.name: no Secret "nosecret" among the documents (set optional: true to run without it)',
      'all.yaml: Pod "web": spec.containers[0].env[2].valueFrom: may not be set together with value',
      'all.yaml: Pod "web": spec.containers[0].env[3].valueFrom.resourceFieldRef.divisor: "2" is not a cpu divisor (1m or 1)',
    ]);
    // The container name is checked once the pod is decoded.
    const e2 = errors(
      pod(
        (x) =>
          (x.spec.containers[0].env = [
            { name: 'E', valueFrom: { resourceFieldRef: { containerName: 'other', resource: 'limits.memory' } } },
          ]),
      ),
    );
    expect(e2).toEqual(['spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName: "other" is not a container of the pod']);
  });

  it('unset limits resolve to the host capacity, unset requests to 0', () => {
    const p = load(pod((x) => (x.spec.containers[0].resources = {})));
    const ref = (resource: string, divisor: number) => ({
      resourceFieldRef: { containerName: 'app', resource: resource as 'limits.cpu', divisor },
    });
    expect(resolveDownward(ref('limits.cpu', 1000), p, VALUES)).toBe('4');
    expect(resolveDownward(ref('limits.memory', 1), p, VALUES)).toBe(String(8 * 1024 ** 3));
    expect(resolveDownward(ref('requests.cpu', 1), p, VALUES)).toBe('0');
  });
});

describe('configMap, secret, downwardAPI and projected volumes', () => {
  const mounted = (volumes: Json[]) =>
    pod((x) => {
      x.spec.volumes = volumes;
      x.spec.containers[0].volumeMounts = volumes.map((v, i) => ({ name: v.name, mountPath: `/v${i}` }));
    });

  it('reads defaultMode: 0400 as octal, as Kubernetes does (YAML 1.1 integers)', () => {
    const written = text(CONFIG, mounted([{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 1 } }])).replace(
      'defaultMode: 1',
      'defaultMode: 0400',
    );
    expect(written).toContain('defaultMode: 0400');
    const { bundle } = loadManifestBundle([{ source: 'all.yaml', path: '/m/all.yaml', text: written }]);
    expect(bundle.pods[0]!.volumes[0]!.source).toMatchObject({ files: [{ mode: 0o400 }, { mode: 0o400 }, { mode: 0o400 }] });
  });

  it('every key by default; items pick keys, paths and modes; secrets are tmpfs', () => {
    const p = load(
      CONFIG,
      SECRET,
      mounted([
        { name: 'all', configMap: { name: 'cfg' } },
        {
          name: 'some',
          configMap: {
            name: 'cfg',
            defaultMode: 0o600,
            items: [
              { key: 'app.conf', path: 'etc/app.conf' },
              { key: 'mode', path: 'mode', mode: 0o400 },
            ],
          },
        },
        { name: 'sec', secret: { secretName: 'db', items: [{ key: 'password', path: 'pw' }] } },
        { name: 'none', secret: { secretName: 'nope', optional: true } },
      ]),
    );
    const [all, some, sec, none] = p.volumes.map((v) => v.source);
    expect(all).toEqual({
      kind: 'files',
      type: 'configMap',
      tmpfs: false,
      files: [
        { path: 'app.conf', mode: 0o644, data: Buffer.from('x=1\n').toString('base64') },
        { path: 'log.level', mode: 0o644, data: Buffer.from('debug').toString('base64') },
        { path: 'mode', mode: 0o644, data: Buffer.from('fast').toString('base64') },
      ],
    });
    expect(some).toMatchObject({
      files: [
        { path: 'etc/app.conf', mode: 0o600 },
        { path: 'mode', mode: 0o400 },
      ],
    });
    expect(sec).toEqual({
      kind: 'files',
      type: 'secret',
      tmpfs: true,
      files: [{ path: 'pw', mode: 0o644, data: Buffer.from('hunter2').toString('base64'), secret: true }],
    });
    expect(none).toEqual({ kind: 'files', type: 'secret', tmpfs: true, files: [] });
  });

  it('lays out the files as kubelet atomic writer: ..data -> ..<timestamp>, one link per top-level name', () => {
    const p = load(
      CONFIG,
      mounted([
        {
          name: 'info',
          projected: {
            sources: [
              { configMap: { name: 'cfg', items: [{ key: 'mode', path: 'conf/mode' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                    { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
                  ],
                },
              },
            ],
          },
        },
      ]),
    );
    const plan = planFileVolume(p.volumes[0]!.source as never, p, VALUES, new Date(Date.UTC(2026, 11, 1, 6, 5, 9)), '123');
    expect(plan.dataDir).toBe('..2026_12_01_06_05_09.123');
    expect(plan.links).toEqual(['conf', 'labels', 'mem']);
    expect(plan.files.map((f) => [f.path, f.mode, f.content.toString()])).toEqual([
      ['conf/mode', 0o644, 'fast'],
      ['labels', 0o644, 'app="web"\ntier="front"'],
      ['mem', 0o644, '64'],
    ]);
    expect(plan.tmpfsBytes).toBeGreaterThan(0);
    expect(dataDirName(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), '9')).toBe('..2026_01_02_03_04_05.9');
  });

  it('refuses bad items, a service account token, and missing keys', () => {
    const e = errors(
      CONFIG,
      mounted([
        {
          name: 'a',
          configMap: {
            name: 'cfg',
            items: [
              { key: 'mode', path: '../x' },
              { key: 'nokey', path: 'y' },
              { key: 'mode', path: 'm', mode: 0o1777 },
            ],
          },
        },
        { name: 'b', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        {
          name: 'c',
          configMap: {
            name: 'cfg',
            items: [
              { key: 'mode', path: 'p' },
              { key: 'app.conf', path: 'p' },
            ],
          },
        },
        { name: 'd', downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } },
      ]),
    );
    expect(e).toEqual([
      `all.yaml: Pod "web": spec.volumes[0].configMap.items[0].path: "../x" must not contain '..'`,
      'all.yaml: Pod "web": spec.volumes[0].configMap.items[1].key: ConfigMap "cfg" has no key "nokey" (set optional: true to run without it)',
      'all.yaml: Pod "web": spec.volumes[0].configMap.items[2].mode: must be between 0 and 511, got 1023',
      'all.yaml: Pod "web": spec.volumes[1].projected.sources[0].serviceAccountToken: needs an API server to issue the token, and minipod has none (remove this source, or give the token as a Secret)',
      'all.yaml: Pod "web": spec.volumes[2].configMap: two files have the path "p"',
      `all.yaml: Pod "web": spec.volumes[3].downwardAPI.items[0].fieldRef.fieldPath: "status.podIP" is not a field the downward API gives a volume (one of metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations, metadata.labels['KEY'], metadata.annotations['KEY'])`,
    ]);
  });

  it('formats label maps as kubelet (sorted key="value" lines)', () => {
    expect(formatMap({ b: 'x"y', a: '1' })).toBe('a="1"\nb="x\\"y"');
  });

  it('the saved spec keeps no Secret content', () => {
    const p = load(SECRET, mounted([{ name: 'sec', secret: { secretName: 'db' } }]));
    const withEnv = { ...p, containers: [{ ...p.containers[0]!, env: [{ name: 'P', value: 'hunter2', literal: true, secret: true }] }] };
    const saved = JSON.stringify(withoutSecretData(withEnv));
    expect(saved).not.toContain('hunter2');
    expect(saved).not.toContain(Buffer.from('hunter2').toString('base64'));
    expect(JSON.parse(saved).secretDataRemoved).toBe(true);
  });
});
