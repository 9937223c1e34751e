/**
 * Issue 12's workload objects, for real: a Deployment of 2 replicas runs 2 pods that `ps`
 * and `inspect` show as its own, `rm Deployment/web` removes both; a StatefulSet's replicas
 * get a claim each; a PersistentVolumeClaim document makes its volume; bad input makes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BUSYBOX_ROOTFS, isRoot, makeTestEnv, minipod, minipodSync, writeManifest, type TestEnv } from '../support/minipod.js';

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const template = (script: string, extra: object = {}): object => ({
  metadata: { labels: { app: 'web' } },
  spec: {
    terminationGracePeriodSeconds: 2,
    containers: [{ name: 'c', image: BUSYBOX_ROOTFS, command: ['sh', '-c', script] }],
    ...extra,
  },
});

describe.skipIf(!isRoot)('workload objects (root)', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('workloads');
  });
  afterAll(() => t?.cleanup());

  it('runs a Deployment of 2 replicas; ps and inspect name the owner; rm Deployment/web removes both', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('echo "I am $HOSTNAME"; sleep 300') },
    };
    const file = writeManifest(t, 'web.yaml', stringify(deployment));
    // An attached run follows one pod: two replicas need -d.
    const attached = await minipod(t, ['run', file]);
    expect(attached.code).toBe(125);
    expect(attached.stderr).toMatch(/hold 2 pods \(web-0, web-1\): run them with -d/);

    const r = await minipod(t, ['run', '-d', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('web-0\nweb-1\n');
    await waitFor(
      () =>
        /^web-0\s+Running.*Deployment\/web/m.test(minipodSync(t, ['ps']).stdout) &&
        /^web-1\s+Running.*Deployment\/web/m.test(minipodSync(t, ['ps']).stdout),
      'both replicas',
    );
    const ps = minipodSync(t, ['ps']).stdout;
    expect(ps).toMatch(/^NAME\s+STATUS\s+READY\s+RESTARTS\s+AGE\s+OWNER\s+PORTS$/m);
    expect(ps).toMatch(/^web-0\s+Running\s+1\/1\s+0\s+\S+\s+Deployment\/web$/m);
    await waitFor(() => minipodSync(t, ['logs', 'web-1']).stdout === 'I am web-1\n', 'the logs of web-1');
    const info = JSON.parse(minipodSync(t, ['inspect', 'web-1']).stdout) as { owner: unknown; hostname: string };
    expect(info.owner).toEqual({ kind: 'Deployment', name: 'web', ordinal: 1 });
    expect(info.hostname).toBe('web-1');

    const rm = minipodSync(t, ['rm', '-f', 'Deployment/web']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe('web-0\nweb-1\n');
    expect(minipodSync(t, ['ps', '-a']).stdout).not.toMatch(/^web-/m);
    expect(minipodSync(t, ['rm', 'Deployment/web']).stderr).toMatch(/Deployment\/web has no pods/);
  });

  it('a bare name removes the pods of the one object of that name', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'calc' },
      spec: { completions: 2, parallelism: 2, template: template('echo done', { restartPolicy: 'Never' }) },
    };
    const r = await minipod(t, ['run', '-d', writeManifest(t, 'job.yaml', stringify(job))]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => (minipodSync(t, ['ps', '-a']).stdout.match(/Succeeded\s.*Job\/calc/g) ?? []).length === 2, 'both completions');
    const rm = minipodSync(t, ['rm', 'calc']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe('calc-0\ncalc-1\n');
  });

  it("gives each StatefulSet replica its claim, and makes a PersistentVolumeClaim document's volume", async () => {
    const pvc = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'shared' },
      spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
    };
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 2,
        serviceName: 'db',
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 2,
            volumes: [{ name: 'shared', persistentVolumeClaim: { claimName: 'shared' } }],
            containers: [
              {
                name: 'c',
                image: BUSYBOX_ROOTFS,
                command: ['sh', '-c', 'echo $HOSTNAME > /data/me; echo $HOSTNAME >> /shared/all; sleep 300'],
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'shared', mountPath: '/shared' },
                ],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Mi' } } } },
        ],
      },
    };
    const r = await minipod(t, ['run', '-d', writeManifest(t, 'db.yaml', `${stringify(pvc)}---\n${stringify(sts)}`)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^minipod: warning: \S*db\.yaml: StatefulSet "db": spec\.serviceName: /m);
    const vol = (name: string): string => path.join(t.env.MINIPOD_LIB_DIR!, 'volumes', name, '_data');
    await waitFor(
      () => fs.existsSync(path.join(vol('data-db-1'), 'me')) && fs.existsSync(path.join(vol('data-db-0'), 'me')),
      'both replicas',
    );
    expect(fs.readFileSync(path.join(vol('data-db-0'), 'me'), 'utf8')).toBe('db-0\n');
    expect(fs.readFileSync(path.join(vol('data-db-1'), 'me'), 'utf8')).toBe('db-1\n');
    await waitFor(() => fs.readFileSync(path.join(vol('shared'), 'all'), 'utf8').split('\n').length === 3, 'the shared claim');
    const volumes = JSON.parse(minipodSync(t, ['volume', 'ls', '--format', 'json']).stdout) as {
      Name: string;
      Origin: string;
      UsedBy: string[];
    }[];
    expect(volumes.map((v) => [v.Name, v.Origin, v.UsedBy])).toEqual([
      ['data-db-0', 'StatefulSet', ['db-0']],
      ['data-db-1', 'StatefulSet', ['db-1']],
      ['shared', 'PersistentVolumeClaim', ['db-0', 'db-1']],
    ]);
    expect(minipodSync(t, ['rm', '-f', 'StatefulSet/db']).stdout).toBe('db-0\ndb-1\n');
    // Claims outlive their pods, as in Kubernetes (persistentVolumeClaimRetentionPolicy Retain).
    expect(minipodSync(t, ['volume', 'prune', '-f']).stdout).toBe('data-db-0\ndata-db-1\nshared\n');
  });

  it('removes the claims with their StatefulSet when its retention policy says Delete', async () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'tmp' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'c',
                image: BUSYBOX_ROOTFS,
                command: ['sh', '-c', 'sleep 300'],
                volumeMounts: [{ name: 'scratch', mountPath: '/s' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          { metadata: { name: 'scratch' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } },
        ],
      },
    };
    expect((await minipod(t, ['run', '-d', writeManifest(t, 'tmp.yaml', stringify(sts))])).code).toBe(0);
    expect(minipodSync(t, ['volume', 'ls', '-q']).stdout).toBe('scratch-tmp-0\n');
    expect(minipodSync(t, ['rm', '-f', 'tmp']).stdout).toBe('tmp-0\n');
    expect(minipodSync(t, ['volume', 'ls', '-q']).stdout).toBe('');
  });

  it('refuses bad input with one line naming the document and field, and makes nothing', async () => {
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bad' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'other' } }, template: template('true') },
    };
    const pvc = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'never' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    };
    const r = await minipod(t, ['run', '-d', writeManifest(t, 'bad.yaml', `${stringify(pvc)}---\n${stringify(bad)}`)]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toEqual([
      `minipod: ${path.join(t.dir, 'bad.yaml')}: Deployment "bad": spec.template.metadata.labels: "{\\"app\\":\\"web\\"}" does not match spec.selector (Kubernetes requires the selector to select the template's pods)`,
    ]);
    expect(minipodSync(t, ['volume', 'ls', '-q']).stdout).toBe('');
    expect(minipodSync(t, ['ps', '-a', '--format', 'json']).stdout.trim()).toBe('[]');
    const cron = await minipod(t, [
      'run',
      writeManifest(t, 'cron.yaml', stringify({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: {} })),
    ]);
    expect(cron.code).toBe(125);
    expect(cron.stderr).toMatch(/^minipod: kind: "CronJob" is not supported: minipod has no scheduler/);
  });
});
