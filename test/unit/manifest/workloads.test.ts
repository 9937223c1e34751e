import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { decodeManifestBundle, loadManifestBundle, type ManifestSource } from '../../../src/manifest/bundle.js';
import { formatIssue } from '../../../src/manifest/issues.js';
import { selectorMatches } from '../../../src/manifest/workloads.js';

type Json = Record<string, any>;

function src(docs: Json[], source = 'app.yaml'): ManifestSource {
  return { source, path: `/m/${source}`, text: docs.map((d) => stringify(d)).join('---\n') };
}

function template(extra: Json = {}): Json {
  return {
    metadata: { labels: { app: 'web' }, annotations: { note: 'x' } },
    spec: { containers: [{ name: 'app', image: 'img' }], ...extra },
  };
}

function deployment(spec: Json = {}, name = 'web'): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template(), ...spec },
  };
}

function errorsOf(...docs: Json[]): string[] {
  const r = decodeManifestBundle([src(docs)]);
  expect(r.bundle).toBeUndefined();
  return r.errors.map(formatIssue);
}

describe('workload objects -> pods', () => {
  it('a Deployment of 2 replicas is web-0 and web-1, with the template labels and owner', () => {
    const { bundle, warnings } = loadManifestBundle([src([deployment({ strategy: { type: 'RollingUpdate' } })])]);
    expect(bundle.pods.map((p) => [p.name, p.hostname, p.labels, p.annotations, p.owner, p.restartPolicy])).toEqual([
      ['web-0', 'web-0', { app: 'web' }, { note: 'x' }, { kind: 'Deployment', name: 'web', ordinal: 0 }, 'Always'],
      ['web-1', 'web-1', { app: 'web' }, { note: 'x' }, { kind: 'Deployment', name: 'web', ordinal: 1 }, 'Always'],
    ]);
    expect(warnings.map((w) => w.path)).toEqual(['spec.strategy']);
  });

  it('ReplicaSet and DaemonSet: N and 1 pods', () => {
    const rs = { ...deployment({ replicas: 3 }, 'rs'), kind: 'ReplicaSet' };
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: template() },
    };
    const { bundle } = loadManifestBundle([src([rs, ds])]);
    expect(bundle.pods.map((p) => p.name)).toEqual(['rs-0', 'rs-1', 'rs-2', 'agent-0']);
    expect(bundle.pods[3]!.owner).toEqual({ kind: 'DaemonSet', name: 'agent', ordinal: 0 });
  });

  it('a StatefulSet gets one claim per template and replica, named as Kubernetes names them', () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 2,
        serviceName: 'db',
        ordinals: { start: 1 },
        selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] },
        template: template({ containers: [{ name: 'app', image: 'img', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] }),
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        ],
      },
    };
    const { bundle, warnings } = loadManifestBundle([src([sts])]);
    expect(bundle.pods.map((p) => [p.name, p.volumes.map((v) => v.source), p.labels])).toEqual([
      [
        'db-1',
        [{ kind: 'persistentVolumeClaim', claimName: 'data-db-1', readOnly: false }],
        { app: 'web', 'statefulset.kubernetes.io/pod-name': 'db-1', 'apps.kubernetes.io/pod-index': '1' },
      ],
      [
        'db-2',
        [{ kind: 'persistentVolumeClaim', claimName: 'data-db-2', readOnly: false }],
        { app: 'web', 'statefulset.kubernetes.io/pod-name': 'db-2', 'apps.kubernetes.io/pod-index': '2' },
      ],
    ]);
    expect(bundle.claims.map((c) => [c.name, c.origin, c.claim.storageBytes])).toEqual([
      ['data-db-1', 'StatefulSet', 1024 ** 3],
      ['data-db-2', 'StatefulSet', 1024 ** 3],
    ]);
    expect(warnings.map((w) => w.path)).toEqual(['spec.serviceName']);
    expect(bundle.claims.every((c) => c.deleteWith === undefined)).toBe(true);
    // whenDeleted: Delete: the claims go with the StatefulSet.
    const deleting = loadManifestBundle([
      src([{ ...sts, spec: { ...sts.spec, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } } }]),
    ]);
    expect(deleting.bundle.claims.map((c) => c.deleteWith)).toEqual(['StatefulSet/db', 'StatefulSet/db']);
    expect(deleting.warnings.map((w) => w.path)).toEqual(['spec.serviceName', 'spec.persistentVolumeClaimRetentionPolicy.whenScaled']);
  });

  it('a Job runs its completions; Indexed pods know their index', () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'calc' },
      spec: { completions: 3, parallelism: 3, completionMode: 'Indexed', backoffLimit: 4, template: template({ restartPolicy: 'Never' }) },
    };
    const { bundle, warnings } = loadManifestBundle([src([job])]);
    expect(bundle.pods.map((p) => [p.name, p.restartPolicy, p.labels['job-name'], p.containers[0]!.env.at(-1)])).toEqual([
      ['calc-0', 'Never', 'calc', { name: 'JOB_COMPLETION_INDEX', value: '0' }],
      ['calc-1', 'Never', 'calc', { name: 'JOB_COMPLETION_INDEX', value: '1' }],
      ['calc-2', 'Never', 'calc', { name: 'JOB_COMPLETION_INDEX', value: '2' }],
    ]);
    expect(warnings.map((w) => w.path)).toEqual(['spec.backoffLimit']);
    // completions beyond parallelism: all at once, with a warning saying so.
    const turns = loadManifestBundle([src([{ ...job, spec: { completions: 2, template: template({ restartPolicy: 'OnFailure' }) } }])]);
    expect(turns.bundle.pods).toHaveLength(2);
    expect(turns.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      'spec.completions: minipod runs all 2 completions at once: there is no Job controller to run them 1 at a time',
    ]);
  });

  it('a PersistentVolumeClaim document is a claim of the bundle, alone or beside pods', () => {
    const pvc = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'shared' },
      spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '5Gi' } } },
    };
    const { bundle } = loadManifestBundle([src([pvc])]);
    expect(bundle.pods).toEqual([]);
    expect(bundle.claims).toEqual([
      {
        name: 'shared',
        origin: 'PersistentVolumeClaim',
        claim: { accessModes: ['ReadWriteMany'], storageBytes: 5 * 1024 ** 3, labels: {}, annotations: {} },
      },
    ]);
  });

  it('refuses with one line naming the document and the field', () => {
    expect(errorsOf(deployment({ selector: { matchLabels: { app: 'api' } } }))).toEqual([
      'spec.template.metadata.labels: "{\\"app\\":\\"web\\"}" does not match spec.selector (Kubernetes requires the selector to select the template\'s pods)',
    ]);
    expect(errorsOf(deployment({ selector: undefined }))).toEqual([
      "spec.selector: field is required (it must select the template's labels)",
    ]);
    expect(errorsOf(deployment({ selector: {} }))).toEqual(["spec.selector: must not be empty (it must select the template's labels)"]);
    expect(
      errorsOf(
        deployment({ template: template({ containers: [{ name: 'app', image: 'img', ports: [{ containerPort: 80, hostPort: 8080 }] }] }) }),
      ),
    ).toEqual([
      'spec.template.spec.containers[0].ports[0].hostPort: 8080: 2 pods on one host cannot all publish it (spec.replicas: 2): run 1 replica, or leave the host port out',
    ]);
    expect(
      errorsOf(
        deployment({
          template: template({ hostNetwork: true, containers: [{ name: 'app', image: 'img', ports: [{ containerPort: 80 }] }] }),
        }),
      )[0],
    ).toMatch(/^spec\.template\.spec\.containers\[0\]\.ports\[0\]\.containerPort: 80 with hostNetwork is a host port/);
    expect(errorsOf(deployment({ template: template({ restartPolicy: 'Never' }) }))).toEqual([
      'spec.template.spec.restartPolicy: "Never" is not allowed: a Deployment\'s pods must have Always (the default)',
    ]);
    expect(errorsOf(deployment({ template: template({ containers: [{ name: 'App', image: 'img' }] }) }))[0]).toMatch(
      /^spec\.template\.spec\.containers\[0\]\.name: "App" must be a DNS-1123 label/,
    );
    expect(errorsOf(deployment({ replicas: 100 }))).toEqual(['spec.replicas: must be between 0 and 64, got 100']);
    expect(errorsOf(deployment({ paused: true }))[0]).toMatch(/^spec\.paused: true is not supported/);
    expect(errorsOf({ ...deployment(), apiVersion: 'apps/v1beta1' })).toEqual([
      'apiVersion: "apps/v1beta1" is not supported: a Deployment is apiVersion apps/v1',
    ]);
    expect(errorsOf(deployment({ strategyy: {} }))[0]).toBe('spec.strategyy: unknown field (did you mean "strategy"?)');
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: template() } };
    expect(errorsOf(job)).toEqual(["spec.template.spec.restartPolicy: field is required: a Job's pods must have OnFailure or Never"]);
    expect(errorsOf({ ...job, spec: { ...job.spec, activeDeadlineSeconds: 10 } })[0]).toBe(
      'spec.activeDeadlineSeconds: is a Kubernetes field minipod does not support',
    );
    expect(errorsOf({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: {} })[0]).toMatch(
      /^kind: "CronJob" is not supported: minipod has no scheduler/,
    );
    expect(errorsOf({ ...deployment(), metadata: { name: 'a'.repeat(62) } })[0]).toMatch(/^metadata\.name: "a+" cannot name pods/);
  });

  it('names the document when there are several; a pod name used twice is an error', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1' }, spec: { containers: [{ name: 'c', image: 'img' }] } };
    expect(errorsOf(pod, deployment())).toEqual([
      'app.yaml: Deployment "web": metadata.name: its pod "web-1" has the name of a pod in app.yaml: Pod "web-1"',
    ]);
    // In the other order, and with two clashes and two namespaces: every clash, in the later document.
    const web0 = { ...pod, metadata: { name: 'web-0', namespace: 'other' } };
    expect(errorsOf(deployment(), pod, web0)).toEqual([
      'app.yaml: Pod "web-1": metadata.name: "web-1" is already the name of a pod in app.yaml: Deployment "web"',
      'app.yaml: Pod "web-0": metadata.name: "web-0" is already the name of a pod in app.yaml: Deployment "web"',
    ]);
  });

  it('label selectors as Kubernetes evaluates them', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [] }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'env', operator: 'Exists', values: [] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchLabels: {}, matchExpressions: [{ key: 'env', operator: 'DoesNotExist', values: [] }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({ matchLabels: { app: 'api' }, matchExpressions: [] }, labels)).toBe(false);
  });
});
