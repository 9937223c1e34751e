import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { decodeClaimObject } from '../../../src/manifest/claims.js';
import { Issues } from '../../../src/manifest/issues.js';
import { volumeMountPolicy, volumeMountSteps } from '../../../src/plan/container.js';
import type { ContainerHostDirs } from '../../../src/plan/container.js';

type Json = Record<string, any>;

function pod(volumes: Json[], mounts: Json[] = []): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { volumes, containers: [{ name: 'c', image: 'img', volumeMounts: mounts }] },
  };
}

function parse(doc: Json) {
  return parsePodManifest(stringify(doc), { manifestDir: '/m' });
}

function errorOf(doc: Json): string {
  try {
    parse(doc);
  } catch (err) {
    expect((err as Error).message).not.toMatch(/\n/);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

const claimSpec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };

describe('persistentVolumeClaim, ephemeral and image volume sources', () => {
  it('decodes each source', () => {
    const spec = parse(
      pod([
        { name: 'db', persistentVolumeClaim: { claimName: 'db-data', readOnly: true } },
        {
          name: 'tmp',
          ephemeral: { volumeClaimTemplate: { metadata: { labels: { a: 'b' } }, spec: { ...claimSpec, storageClassName: 'fast' } } },
        },
        { name: 'tools', image: { reference: 'registry.example/tools:1', pullPolicy: 'IfNotPresent' } },
        { name: 'img', image: { reference: 'alpine' } },
      ]),
    );
    expect(spec.volumes.map((v) => v.source)).toEqual([
      { kind: 'persistentVolumeClaim', claimName: 'db-data', readOnly: true },
      {
        kind: 'ephemeral',
        claim: { accessModes: ['ReadWriteOnce'], storageBytes: 1024 ** 3, storageClassName: 'fast', labels: { a: 'b' }, annotations: {} },
      },
      { kind: 'image', reference: 'registry.example/tools:1', pullPolicy: 'IfNotPresent' },
      { kind: 'image', reference: 'alpine' },
    ]);
  });

  const cases: [string, Json[], string][] = [
    ['no claimName', [{ name: 'v', persistentVolumeClaim: {} }], 'spec.volumes[0].persistentVolumeClaim.claimName: field is required'],
    [
      'bad claimName',
      [{ name: 'v', persistentVolumeClaim: { claimName: '../etc' } }],
      'spec.volumes[0].persistentVolumeClaim.claimName: "../etc" must be a DNS-1123 subdomain: lower-case labels separated by dots',
    ],
    [
      'claim typo',
      [{ name: 'v', persistentVolumeClaim: { claimname: 'x' } }],
      'spec.volumes[0].persistentVolumeClaim.claimname: unknown field (did you mean "claimName"?)',
    ],
    [
      'readOnly type',
      [{ name: 'v', persistentVolumeClaim: { claimName: 'x', readOnly: 'yes' } }],
      'spec.volumes[0].persistentVolumeClaim.readOnly: expected a boolean, got string',
    ],
    ['no reference', [{ name: 'v', image: { pullPolicy: 'Always' } }], 'spec.volumes[0].image.reference: field is required'],
    [
      'pullPolicy',
      [{ name: 'v', image: { reference: 'x', pullPolicy: 'Sometimes' } }],
      'spec.volumes[0].image.pullPolicy: "Sometimes" is not one of Always, IfNotPresent, Never',
    ],
    ['no template', [{ name: 'v', ephemeral: {} }], 'spec.volumes[0].ephemeral.volumeClaimTemplate: field is required'],
    [
      'no access mode',
      [{ name: 'v', ephemeral: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '1Gi' } } } } } }],
      'spec.volumes[0].ephemeral.volumeClaimTemplate.spec.accessModes: at least 1 access mode is required',
    ],
    [
      'bad access mode',
      [{ name: 'v', ephemeral: { volumeClaimTemplate: { spec: { ...claimSpec, accessModes: ['RWO'] } } } }],
      'spec.volumes[0].ephemeral.volumeClaimTemplate.spec.accessModes[0]: "RWO" is not one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod',
    ],
    [
      'no storage',
      [{ name: 'v', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } }],
      'spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources.requests.storage: field is required (the size the claim asks for)',
    ],
    [
      'bad storage',
      [{ name: 'v', ephemeral: { volumeClaimTemplate: { spec: { ...claimSpec, resources: { requests: { storage: 'lots' } } } } } }],
      'spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources.requests.storage: "lots" is not a valid quantity',
    ],
    [
      'block mode',
      [{ name: 'v', ephemeral: { volumeClaimTemplate: { spec: { ...claimSpec, volumeMode: 'Block' } } } }],
      'spec.volumes[0].ephemeral.volumeClaimTemplate.spec.volumeMode: "Block" is not supported by minipod',
    ],
    [
      'dataSource',
      [{ name: 'v', ephemeral: { volumeClaimTemplate: { spec: { ...claimSpec, dataSource: { kind: 'VolumeSnapshot', name: 's' } } } } }],
      'spec.volumes[0].ephemeral.volumeClaimTemplate.spec.dataSource: is a Kubernetes field minipod does not support',
    ],
    [
      'two sources',
      [{ name: 'v', emptyDir: {}, image: { reference: 'x' } }],
      'spec.volumes[0]: must specify exactly one volume source (got emptyDir and image)',
    ],
  ];
  for (const [what, volumes, message] of cases) {
    it(`refuses ${what}`, () => expect(errorOf(pod(volumes))).toBe(message));
  }
});

describe('a PersistentVolumeClaim document', () => {
  const doc = (spec: Json, metadata: Json = { name: 'data' }): Json => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata,
    spec,
  });

  it('decodes what the claim asks for', () => {
    const issues = new Issues();
    const claim = decodeClaimObject(
      doc(
        { ...claimSpec, storageClassName: 'local-path', resources: { requests: { storage: '500Mi' }, limits: { storage: '1Gi' } } },
        { name: 'data', labels: { app: 'db' } },
      ),
      issues,
    );
    expect(issues.list).toEqual([]);
    expect(claim).toEqual({
      name: 'data',
      claim: {
        accessModes: ['ReadWriteOnce'],
        storageBytes: 500 * 1024 ** 2,
        storageClassName: 'local-path',
        labels: { app: 'db' },
        annotations: {},
      },
    });
  });

  it('warns that selector and volumeName choose nothing on one host', () => {
    const issues = new Issues();
    expect(decodeClaimObject(doc({ ...claimSpec, volumeName: 'pv-1', selector: { matchLabels: { a: 'b' } } }), issues)?.name).toBe('data');
    expect(issues.list).toEqual([]);
    expect(issues.warnings.map((w) => w.path)).toEqual(['spec.volumeName', 'spec.selector']);
  });

  it('names the field of each problem', () => {
    const problems = (d: Json): string[] => {
      const issues = new Issues();
      expect(decodeClaimObject(d, issues)).toBeUndefined();
      return issues.list.map((i) => `${i.path}: ${i.message}`);
    };
    expect(problems(doc(claimSpec, { name: 'Bad_Name' }))[0]).toBe(
      'metadata.name: "Bad_Name" must be a DNS-1123 subdomain: lower-case labels separated by dots',
    );
    expect(problems(doc({ ...claimSpec, dataSourceRef: { kind: 'PersistentVolumeClaim', name: 'x' } }))).toEqual([
      'spec.dataSourceRef: is a Kubernetes field minipod does not support',
    ]);
    expect(problems(doc({ ...claimSpec, resources: { requests: { storage: '2Gi' }, limits: { storage: '1Gi' } } }))).toEqual([
      'spec.resources.limits.storage: "1Gi" must be at least the request',
    ]);
    expect(problems({ ...doc(claimSpec), apiVersion: 'v2' })).toEqual([
      'apiVersion: "v2" is not supported: a PersistentVolumeClaim is apiVersion v1',
    ]);
    expect(problems({ ...doc(claimSpec), status: { phase: 'Bound' } })[0]).toMatch(/^status: field is not supported/);
  });
});

describe('what a volume imposes on its mounts', () => {
  const dirs = { volumes: { img: '/layers/img', db: '/vol/db', rw: '/vol/rw' }, subPaths: {} } as unknown as ContainerHostDirs;
  it('image volumes are read-only and noexec; readOnly claims are read-only', () => {
    const spec = parse(
      pod(
        [
          { name: 'img', image: { reference: 'x' } },
          { name: 'db', persistentVolumeClaim: { claimName: 'db', readOnly: true } },
          { name: 'rw', persistentVolumeClaim: { claimName: 'rw' } },
        ],
        [
          { name: 'img', mountPath: '/img' },
          { name: 'db', mountPath: '/db' },
          { name: 'rw', mountPath: '/rw' },
        ],
      ),
    );
    const steps = volumeMountSteps(spec.containers[0]!, dirs, () => false, spec.volumes);
    expect(steps.map((s) => [s.destination, s.source, s.readOnly, s.flags])).toEqual([
      ['/img', '/layers/img', true, ['NOSUID', 'NODEV', 'NOEXEC']],
      ['/db', '/vol/db', true, ['NODEV']],
      ['/rw', '/vol/rw', false, ['NODEV']],
    ]);
    expect(volumeMountPolicy(undefined)).toEqual({ readOnly: false, flags: ['NODEV'] });
  });
});
