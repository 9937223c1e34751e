/**
 * Issue 12 for real: ConfigMaps and Secrets that come with the pod, read by real containers as
 * files (kubelet's ..data layout, items, modes) and env (configMapKeyRef, secretKeyRef,
 * envFrom), the downward API (fieldRef, resourceFieldRef, status.podIP), a Secret volume on a
 * tmpfs and nowhere on disk, warnings on run, and `--dry-run`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
  inspect,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  networkSkipReason,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

/** Only in the Secret volume: must be in memory only. */
const VOLUME_SECRET = 'volume-only-9d2c41e7a0';
const ENV_SECRET = 'env-secret-77ab';

const CONFIG = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'app-config' },
  data: { 'app.conf': 'color=blue\nsize=3\n', mode: 'fast', greeting: 'hello' },
};
const SECRETS = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vol-secret' }, data: { token: Buffer.from(VOLUME_SECRET).toString('base64') } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'env-secret' }, type: 'Opaque', stringData: { password: ENV_SECRET } },
];

const SCRIPT = [
  'echo "conf=$(cat /cfg/conf/app.conf | tr "\\n" ",")"',
  'echo "mode-perm=$(stat -L -c %a /cfg/mode)"',
  'echo "conf-perm=$(stat -L -c %a /cfg/conf/app.conf)"',
  'echo "data-link=$(readlink /cfg/..data)"',
  'echo "mode-link=$(readlink /cfg/mode)"',
  'echo "entries=$(ls -A /cfg | tr "\\n" " ")"',
  'echo "cfg-ro=$(touch /cfg/x 2>/dev/null && echo no || echo yes)"',
  // A digest only: the log is on disk, and the check below is that the content is not.
  'echo "token=$(sha256sum /sec/token | cut -d" " -f1)"',
  'echo "token-perm=$(stat -L -c %a /sec/token)"',
  'echo "sec-fs=$(grep " /sec " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1)"',
  'echo "labels=$(cat /info/labels | tr "\\n" ",")"',
  'echo "info-mem=$(cat /info/mem)"',
  'echo "env-mode=$MODE env-pass=$PASS env-greeting=$CFG_greeting"',
  'echo "env-name=$POD_NAME env-ns=$POD_NS env-uid=$POD_UID env-ip=$POD_IP env-node=$NODE"',
  'echo "env-cpu=$CPU_MILLI env-mem=$MEM_MI env-mem-default=$MEM_DEFAULT"',
  'echo done',
  'sleep 300',
].join('; ');

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'objs', namespace: 'shop', labels: { app: 'objs', tier: 'web' } },
  spec: {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 1,
    nodeSelector: { disk: 'ssd' },
    volumes: [
      {
        name: 'cfg',
        configMap: {
          name: 'app-config',
          defaultMode: 0o640,
          items: [
            { key: 'app.conf', path: 'conf/app.conf' },
            { key: 'mode', path: 'mode', mode: 0o400 },
          ],
        },
      },
      { name: 'sec', secret: { secretName: 'vol-secret', defaultMode: 0o400 } },
      {
        name: 'info',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
          ],
        },
      },
    ],
    containers: [
      {
        name: 'app',
        image: BUSYBOX_ROOTFS,
        command: ['sh', '-c', SCRIPT],
        resources: { limits: { cpu: '250m', memory: '64Mi' } },
        volumeMounts: [
          { name: 'cfg', mountPath: '/cfg' },
          { name: 'sec', mountPath: '/sec' },
          { name: 'info', mountPath: '/info' },
        ],
        envFrom: [{ configMapRef: { name: 'app-config' }, prefix: 'CFG_' }],
        env: [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'password' } } },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'CPU_MILLI', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
          { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'MEM_DEFAULT', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'limits.memory' } } },
        ],
      },
      { name: 'side', image: BUSYBOX_ROOTFS, command: ['sleep', '300'] },
    ],
  },
};

/** Host mount points of type tmpfs (from the host's own mountinfo). */
function hostTmpfsMounts(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - tmpfs /.test(l))
    .map((l) => l.split(' ')[4]!);
}

/** Regular files under dir, not following links and not entering any other file system. */
function filesOnDisk(dir: string, skip: Set<string>): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (skip.has(d)) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!isRoot || networkSkipReason() !== '')('ConfigMaps, Secrets and the downward API in real pods (root)', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('objs');
  });
  afterAll(() => t?.cleanup());

  it('files, modes, the ..data layout, env, podIP; the Secret volume is a tmpfs and nowhere on disk', async () => {
    const objects = writeManifest(t, 'objects.yaml', [CONFIG, ...SECRETS].map((d) => stringify(d)).join('---\n'));
    const pod = writeManifest(t, 'pod.yaml', stringify(POD));
    const r = await minipod(t, ['run', '-d', '-f', objects, pod]);
    expect(r.stderr).toContain(`minipod: warning: ${pod}: Pod "objs": spec.nodeSelector: has no effect: minipod runs the pod on this host`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('objs');
    const logFile = path.join(t.env.MINIPOD_LOG_DIR!, 'objs', 'app.log');
    const log = await waitFor('the container to report', () => {
      const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      return text.includes('stdout F done') ? text : undefined;
    });
    const line = (key: string): string => new RegExp(`stdout F ${key}=(.*)$`, 'm').exec(log)?.[1] ?? `<no ${key}>`;
    expect(line('conf')).toBe('color=blue,size=3,');
    expect(line('mode-perm')).toBe('400');
    expect(line('conf-perm')).toBe('640');
    expect(line('data-link')).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/);
    expect(line('mode-link')).toBe('..data/mode');
    expect(line('entries').trim().split(' ').sort()).toEqual(['..data', line('data-link'), 'conf', 'mode'].sort());
    expect(line('cfg-ro')).toBe('yes');
    expect(line('token')).toBe(createHash('sha256').update(VOLUME_SECRET).digest('hex'));
    expect(line('token-perm')).toBe('400');
    expect(line('sec-fs')).toBe('tmpfs');
    expect(line('labels')).toBe('app="objs",tier="web"');
    expect(line('info-mem')).toBe('64');

    const pod1 = inspect(t, 'objs')!;
    const state = JSON.parse(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', 'objs', 'state.json'), 'utf8')) as { uid: string };
    expect(pod1.network?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(log).toContain(`env-mode=fast env-pass=${ENV_SECRET} env-greeting=hello`);
    expect(log).toContain(
      `env-name=objs env-ns=shop env-uid=${state.uid} env-ip=${pod1.network!.ip} env-node=${(await import('node:os')).hostname()}`,
    );
    expect(state.uid).toMatch(/^[0-9a-f-]{36}$/);
    const memTotalMi = Math.ceil((await import('node:os')).totalmem());
    expect(log).toContain(`env-cpu=250 env-mem=64 env-mem-default=${memTotalMi}`);

    // The Secret volume is a tmpfs on the host, and its content is in no file on disk under
    // minipod's directories (the tmpfs itself is skipped: it is memory).
    const tmpfs = hostTmpfsMounts();
    const secretDir = path.join(t.env.MINIPOD_LIB_DIR!, 'pods', 'objs', 'volumes', 'sec');
    expect(tmpfs).toContain(secretDir);
    const files = ['MINIPOD_RUN_DIR', 'MINIPOD_LIB_DIR', 'MINIPOD_LOG_DIR'].flatMap((k) => filesOnDisk(t.env[k]!, new Set(tmpfs)));
    expect(files.length).toBeGreaterThan(3);
    const holding = files.filter((f) => {
      const content = fs.readFileSync(f);
      // The container printed its env Secret to its log (the test asked it to): logs aside.
      const envSecret = !f.startsWith(t.env.MINIPOD_LOG_DIR!) && content.includes(ENV_SECRET);
      return content.includes(VOLUME_SECRET) || content.includes(Buffer.from(VOLUME_SECRET).toString('base64')) || envSecret;
    });
    expect(holding).toEqual([]);
    // The env Secret is in the containers' process records (exec starts with the container's
    // environment), which are on the pod's own tmpfs, root's alone.
    const records = path.join(t.env.MINIPOD_RUN_DIR!, 'pods', 'objs', 'containers');
    expect(tmpfs).toContain(records);
    expect(fs.statSync(records).mode & 0o777).toBe(0o700);
    // The saved spec has neither Secret.
    const spec = fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', 'objs', 'spec.json'), 'utf8');
    expect(spec).not.toContain(ENV_SECRET);
    expect(spec).not.toContain(VOLUME_SECRET);

    const rm = minipodSync(t, ['rm', '-f', 'objs']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(hostTmpfsMounts()).not.toContain(secretDir);
  }, 120_000);

  it('an attached run prints the warnings too, then runs the pod', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'warned' },
      spec: {
        restartPolicy: 'Never',
        tolerations: [{ key: 'k', operator: 'Exists' }],
        serviceAccountName: 'builder',
        containers: [
          {
            name: 'a',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', 'echo sa=$SA'],
            env: [{ name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } }],
          },
        ],
      },
    };
    const r = await minipod(t, ['run', writeManifest(t, 'warned.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('minipod: warning:'))).toEqual([
      'minipod: warning: spec.tolerations: has no effect: one host has no taints to tolerate',
      'minipod: warning: spec.serviceAccountName: has no effect: there is no API server, so no service account and no token',
    ]);
    expect(r.stdout).toMatch(/a \| sa=builder/);
  });
});

describe('run --dry-run', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('dryrun');
  });
  afterAll(() => t?.cleanup());

  it('prints every error, exits 125, and creates nothing (no daemon, no state)', async () => {
    const bad = [
      stringify({ ...CONFIG, binaryData: { blob: 'not base64!' } }),
      stringify({ apiVersion: 'v1', kind: 'Secrett', metadata: { name: 's' } }),
      stringify({ ...POD, spec: { ...POD.spec, containers: [{ ...POD.spec.containers[0], imag: 'x' }] } }),
    ].join('---\n');
    const file = writeManifest(t, 'bad.yaml', bad);
    const r = await minipod(t, ['run', '--dry-run', file]);
    expect(r.code).toBe(125);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('minipod: ') && !l.startsWith('minipod: warning:'));
    expect(errors).toEqual([
      `minipod: ${file}: ConfigMap "app-config": binaryData.blob: is not valid base64 (standard alphabet, padded with =)`,
      `minipod: ${file}: Secrett "s": kind: "Secrett" is not a known kind (did you mean "Secret"?); minipod runs ConfigMap, Secret, PersistentVolumeClaim, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and List`,
      `minipod: ${file}: Pod "objs": spec.containers[0].imag: unknown field (did you mean "image"?)`,
      `minipod: ${file}: Pod "objs": spec.containers[0].env[1].valueFrom.secretKeyRef.name: no Secret "env-secret" among the documents (set optional: true to run without it)`,
      `minipod: ${file}: Pod "objs": spec.volumes[1].secret.secretName: no Secret "vol-secret" among the documents (set optional: true to run without it)`,
    ]);
    expect(r.stderr).toContain(`minipod: warning: ${file}: Pod "objs": spec.nodeSelector: has no effect`);
    expect(fs.readdirSync(t.dir).sort()).toEqual(['bad.yaml']);
  });

  it('accepts valid input without root or a daemon, and names the pods', async () => {
    const objects = writeManifest(t, 'objects.yaml', [CONFIG, ...SECRETS].map((d) => stringify(d)).join('---\n'));
    const pod = writeManifest(t, 'pod.yaml', stringify(POD));
    const r = await minipod(t, ['run', '--dry-run', '-f', objects, '-f', pod]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('objs\n');
    expect(fs.existsSync(t.env.MINIPOD_RUN_DIR!)).toBe(false);
    expect(fs.existsSync(t.env.MINIPOD_LIB_DIR!)).toBe(false);
  });
});
