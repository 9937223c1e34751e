/**
 * Issue 13, item 2, for real: a `hostUsers: false` pod runs as an unprivileged id range on the
 * host and as root inside; its root filesystem and emptyDir work; its root cannot do what host
 * root can; two pods get disjoint ranges, and a range comes back after `rm`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, busyboxPod, isRoot, makeTestEnv, minipod, minipodSync, writeManifest, type TestEnv } from '../support/minipod.js';
import { expectNoLeaks, snapshotHost, type HostSnapshot } from '../support/host-leaks.js';

interface State {
  init?: { pid: number };
  userNamespace?: { base: number; size: number };
  monitor?: string;
  containers: { name: string; pid?: number; state: string }[];
}

function readState(t: TestEnv, pod: string): State {
  return JSON.parse(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', pod, 'state.json'), 'utf8')) as State;
}

function hostIds(pid: number): { uid: number; gid: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)![1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

async function waitRunning(t: TestEnv, pod: string, container: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const c = readState(t, pod).containers.find((x) => x.name === container);
    if (c?.state === 'running' && c.pid) return c.pid;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${pod}/${container} did not start`);
}

const userns = (name: string, script: string, extra: object = {}): object =>
  busyboxPod(name, [['main', script]], { spec: { hostUsers: false, volumes: [{ name: 'data', emptyDir: {} }], ...extra } });

function withVolume(pod: object): object {
  const p = pod as { spec: { containers: { volumeMounts?: object[] }[] } };
  for (const c of p.spec.containers) c.volumeMounts = [{ name: 'data', mountPath: '/data' }];
  return pod;
}

describe.skipIf(!isRoot)('hostUsers: false (root)', () => {
  let t: TestEnv;
  let before: HostSnapshot;
  beforeAll(() => {
    before = snapshotHost();
    t = makeTestEnv('userns');
  });
  afterAll(async () => {
    t?.cleanup();
    await expectNoLeaks(before);
  });

  it('runs as an unprivileged range on the host and as root inside, with a working root and emptyDir', async () => {
    const hostname = os.hostname();
    const manifest = writeManifest(t, 'a.json', withVolume(userns('ua', 'echo hello > /data/from-pod; echo up > /upper-file; sleep 300')));
    const run = await minipod(t, ['run', '-d', manifest]);
    expect(run.code, run.stderr).toBe(0);
    try {
      const pid = await waitRunning(t, 'ua', 'main');
      const state = readState(t, 'ua');
      const range = state.userNamespace!;
      // conmon does not make containers in a user namespace yet: under MINIPOD_CONTAINER_MONITOR
      // conmon too, such a pod falls back to the daemon holding its containers.
      expect(state.monitor).toBe('daemon');
      expect(range.size).toBe(65536);
      expect(range.base).toBeGreaterThanOrEqual(2 ** 30);
      // From the host: the container's process and the pod's init are not root.
      expect(hostIds(pid)).toEqual({ uid: range.base, gid: range.base });
      expect(hostIds(state.init!.pid)).toEqual({ uid: range.base, gid: range.base });
      // From inside: root, and the map says so.
      const id = minipodSync(t, ['exec', 'ua', 'main', '--', 'id']);
      expect(id.stdout.trim()).toMatch(/^uid=0\(root\) gid=0\(root\)/);
      const map = minipodSync(t, ['exec', 'ua', 'main', '--', 'cat', '/proc/self/uid_map']);
      expect(map.stdout.trim().split(/\s+/)).toEqual(['0', String(range.base), '65536']);
      // The image's files are root's inside; the writable layer works.
      const ls = minipodSync(t, [
        'exec',
        'ua',
        'main',
        '--',
        'sh',
        '-c',
        'stat -c "%u %g" /etc/passwd /bin; cat /upper-file; echo x > /etc/new && echo wrote',
      ]);
      expect(ls.stdout).toBe('0 0\n0 0\nup\nwrote\n');
      // What it wrote to the emptyDir is the range's on the host.
      const file = path.join(t.env.MINIPOD_LIB_DIR!, 'pods', 'ua', 'volumes', 'data', 'from-pod');
      const st = fs.statSync(file);
      expect([st.uid, st.gid]).toEqual([range.base, range.base]);
      // The container's own cgroup view works in its user namespace too.
      // (every hierarchy at its root: v2's one line, or each v1 controller's)
      const cgroups = minipodSync(t, ['exec', 'ua', 'main', '--', 'cat', '/proc/self/cgroup']).stdout.trim().split('\n');
      expect(cgroups.length).toBeGreaterThan(0);
      for (const line of cgroups) expect(line).toMatch(/:\/$/);
      // A user inside is base + uid outside.
      const asUser = minipodSync(t, ['exec', '-u', '1000:1000', 'ua', 'main', '--', 'sh', '-c', 'touch /data/by-1000']);
      expect(asUser.code, asUser.stderr).toBe(0);
      expect(fs.statSync(path.join(path.dirname(file), 'by-1000')).uid).toBe(range.base + 1000);
      expect(os.hostname()).toBe(hostname);
    } finally {
      minipodSync(t, ['rm', '-f', 'ua']);
    }
  });

  it('mounts hostPath, read-only, memory and file volumes in a user-namespace pod, with owners seen inside and on the host', async () => {
    // A host folder of host root's, with a file of a host user outside any pod's range.
    const hostDir = path.join(t.dir, 'host-data');
    fs.mkdirSync(hostDir, { recursive: true });
    fs.writeFileSync(path.join(hostDir, 'by-root'), 'host\n');
    fs.writeFileSync(path.join(hostDir, 'by-1000'), 'user\n');
    fs.chownSync(path.join(hostDir, 'by-1000'), 1000, 1000);
    const script = [
      'stat -c "%n %u %g" /host/by-root /host/by-1000',
      'cat /host/by-root',
      '(echo x > /host/new && echo host-wrote) || echo host-refused',
      'echo m > /mem/f && stat -c "%n %u %g" /mem/f',
      'cat /ro/seed; (touch /ro/x 2>/dev/null && echo ro-wrote) || echo ro-refused',
      'cat /cfg/k; echo; stat -c "%n %u %g" /cfg/k',
    ].join('; ');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'uvol' },
      spec: {
        hostUsers: false,
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 5,
        volumes: [
          { name: 'host', hostPath: { path: hostDir, type: 'Directory' } },
          { name: 'mem', emptyDir: { medium: 'Memory' } },
          { name: 'ro', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'cfg' } },
        ],
        initContainers: [
          {
            name: 'seed',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', 'echo seeded > /ro/seed'],
            volumeMounts: [{ name: 'ro', mountPath: '/ro' }],
          },
        ],
        containers: [
          {
            name: 'main',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', script],
            volumeMounts: [
              { name: 'host', mountPath: '/host' },
              { name: 'mem', mountPath: '/mem' },
              { name: 'ro', mountPath: '/ro', readOnly: true },
              { name: 'cfg', mountPath: '/cfg' },
            ],
          },
        ],
      },
    };
    const cfg = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { k: 'value' } };
    const r = await minipod(t, ['run', writeManifest(t, 'uvol.json', { apiVersion: 'v1', kind: 'List', items: [cfg, pod] })]);
    try {
      expect(r.code, r.stderr + r.stdout).toBe(0);
      // hostPath (idmapped): host ids read as themselves, and root inside writes as host root.
      expect(r.stdout).toMatch(/main +\| \/host\/by-root 0 0$/m);
      expect(r.stdout).toMatch(/main +\| \/host\/by-1000 1000 1000$/m);
      expect(r.stdout).toMatch(/main +\| host-wrote$/m);
      const made = fs.statSync(path.join(hostDir, 'new'));
      expect([made.uid, made.gid]).toEqual([0, 0]);
      // A memory emptyDir is the pod's root's (inside 0, on the host the range's base).
      expect(r.stdout).toMatch(/main +\| \/mem\/f 0 0$/m);
      // A read-only mount of an emptyDir: readable, not writable.
      expect(r.stdout).toMatch(/main +\| seeded$/m);
      expect(r.stdout).toMatch(/main +\| ro-refused$/m);
      // A configMap volume (idmapped): root's inside.
      expect(r.stdout).toMatch(/main +\| value$/m);
      expect(r.stdout).toMatch(/main +\| \/cfg\/k 0 0$/m);
    } finally {
      minipodSync(t, ['rm', '-f', 'uvol']);
    }
  });

  it('root inside cannot do what host root can', async () => {
    const hostname = os.hostname();
    const pod = userns(
      'ub',
      [
        'hostname changed-inside && echo "hostname=$(hostname)"',
        // Setting the clock to what it reads and raising its priority (both harmless were they
        // to work on the host), a block device node.
        'echo "time=$(date -s "$(date "+%Y-%m-%d %H:%M:%S")" 2>&1)"',
        'echo "mknod=$(mknod /tmp/vda b 254 0 2>&1)"',
        'echo "nice=$(renice -n -5 -p 0 2>&1 && echo raised)"',
        'echo evil > /proc/sys/kernel/hostname 2>/dev/null; echo "after=$(hostname)"',
      ].join('; '),
    );
    (pod as { spec: { containers: { securityContext?: object }[] } }).spec.containers[0]!.securityContext = {
      capabilities: { add: ['SYS_ADMIN', 'SYS_TIME', 'MKNOD', 'SYS_NICE'] },
    };
    const r = await minipod(t, ['run', writeManifest(t, 'b.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hostname=changed-inside/); // its own UTS namespace: allowed
    expect(r.stdout).toMatch(/time=.*Operation not permitted/);
    expect(r.stdout).toMatch(/mknod=.*Operation not permitted/);
    expect(r.stdout).toMatch(/nice=.*Permission denied/);
    expect(os.hostname()).toBe(hostname);
  });

  it('gives two pods disjoint ranges and reuses a range once its pod is removed', async () => {
    const a = await minipod(t, ['run', '-d', writeManifest(t, 'c1.json', userns('uc1', 'sleep 300'))]);
    const b = await minipod(t, ['run', '-d', writeManifest(t, 'c2.json', userns('uc2', 'sleep 300'))]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    try {
      const pa = await waitRunning(t, 'uc1', 'main');
      const pb = await waitRunning(t, 'uc2', 'main');
      const ra = readState(t, 'uc1').userNamespace!;
      const rb = readState(t, 'uc2').userNamespace!;
      expect(ra.base + ra.size <= rb.base || rb.base + rb.size <= ra.base).toBe(true);
      expect(hostIds(pa).uid).toBe(ra.base);
      expect(hostIds(pb).uid).toBe(rb.base);
      expect(minipodSync(t, ['rm', '-f', 'uc1']).code).toBe(0);
      const c = await minipod(t, ['run', '-d', writeManifest(t, 'c3.json', userns('uc3', 'sleep 300'))]);
      expect(c.code, c.stderr).toBe(0);
      await waitRunning(t, 'uc3', 'main');
      expect(readState(t, 'uc3').userNamespace).toEqual(ra);
    } finally {
      for (const p of ['uc1', 'uc2', 'uc3']) minipodSync(t, ['rm', '-f', p]);
    }
    const ranges = JSON.parse(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'userns', 'ranges.json'), 'utf8'));
    expect(ranges.pods).toEqual({});
  });

  it('the annotation makes it the default; hostUsers: true opts out', async () => {
    const auto = busyboxPod('ud', [['main', 'cat /proc/self/uid_map']], { metadata: { annotations: { 'minipod.io/userns': 'auto' } } });
    const r = await minipod(t, ['run', writeManifest(t, 'd.json', auto)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/main +\| +0 +10\d{8} +65536/);
    const out = busyboxPod('ue', [['main', 'cat /proc/self/uid_map']], {
      metadata: { annotations: { 'minipod.io/userns': 'auto' } },
      spec: { hostUsers: true },
    });
    const h = await minipod(t, ['run', writeManifest(t, 'e.json', out)]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/main +\| +0 +0 +4294967295/);
  });

  it('refuses hostUsers: false with hostNetwork: one line, exit 125, nothing made', async () => {
    const r = await minipod(t, [
      'run',
      writeManifest(t, 'f.json', busyboxPod('uf', [['main', 'true']], { spec: { hostUsers: false, hostNetwork: true } })),
    ]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/spec\.hostUsers: false cannot be combined with spec\.hostNetwork: true/);
    expect(fs.existsSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', 'uf'))).toBe(false);
  });
});
