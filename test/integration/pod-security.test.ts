/**
 * The pod-wide security context and host entries in real pods: fsGroup ownership of an
 * emptyDir seen from inside, the groups `id` shows, namespaced sysctls set inside the pod and
 * not on the host (host-wide ones refused), hostAliases in /etc/hosts, and a grpc probe against
 * a real gRPC health server.
 *
 * The grpc server runs in this test process on the host's loopback and the pod uses
 * hostNetwork, so the probe dials 127.0.0.1 as kubelet dials a hostNetwork pod's IP: the
 * busybox image has nothing that speaks gRPC, and this keeps the server (an HTTP/2 health
 * server written independently of the prober) under the test's control to flip its status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
  busyboxPod,
  inspect,
  isRoot,
  makeTestEnv,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';
import { type HealthServer, ServingStatus, startHealthServer } from '../support/grpc-health-server.js';

const NO_NETWORK = { annotations: { 'minipod.io/network': 'none' } };

function hostSysctl(name: string): string {
  return fs.readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
}

describe.skipIf(!isRoot)('pod security context and host entries (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('podsec')));
  afterEach(() => {
    const dir = path.join(t.env.MINIPOD_RUN_DIR!, 'pods');
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) minipodSync(t, ['rm', '-f', name]);
  });
  afterAll(() => t?.cleanup());

  it('makes an emptyDir group-owned by fsGroup with setgid, and gives every container the groups', () => {
    const manifest = busyboxPod('fsgroup', [['app', 'id; ls -lnd /data; touch /data/f; ls -ln /data/f']], {
      metadata: NO_NETWORK,
      spec: {
        securityContext: { runAsUser: 1000, fsGroup: 2000, supplementalGroups: [3000] },
        volumes: [{ name: 'data', emptyDir: {} }],
        initContainers: [{ name: 'setup', image: BUSYBOX_ROOTFS, command: ['sh', '-c', 'echo init-$(id -G)'] }],
        containers: [
          {
            name: 'app',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', 'id; ls -lnd /data; touch /data/f; ls -ln /data/f'],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
      },
    });
    const r = minipodSync(t, ['run', writeManifest(t, 'fsgroup.json', manifest)]);
    expect(r.code, r.stderr).toBe(0);
    // The image's user 1000 has primary group 1000; the pod's groups come on top (sorted by the kernel).
    expect(r.stdout).toMatch(/app +\| uid=1000\(user\) gid=1000\(user\) groups=2000,3000$/m);
    expect(r.stdout).toMatch(/setup +\| init-1000 2000 3000$/m);
    // drwxrwsrwx: group rw and setgid on the volume's root, owned root:fsGroup.
    expect(r.stdout).toMatch(/app +\| drwxrwsrwx +\d+ +0 +2000 .* \/data$/m);
    // A file the container creates inherits the group from the setgid directory.
    expect(r.stdout).toMatch(/app +\| -rw-r--r-- +1 +1000 +2000 .* \/data\/f$/m);
  });

  it("gives a privileged container the host's devices; an unprivileged one the default set, and no node it makes opens", () => {
    // CAP_MKNOD is a default capability: a node made in /dev or in a volume must not open
    // (runc's devices cgroup refuses it; here /dev and the volumes are nodev).
    const unprivileged = [
      'ls /dev | tr "\\n" " "; echo',
      'mknod /dev/made c 1 3 && (echo x > /dev/made && echo dev-open || echo dev-refused)',
      'mknod /data/made c 1 3 && (echo x > /data/made && echo vol-open || echo vol-refused)',
      'echo x > /dev/null && echo null-ok',
    ].join('; ');
    const privileged = 'for d in /dev/kmsg /dev/loop-control; do test -c $d && echo has $d; done; ls /dev | wc -l';
    const data = [{ name: 'data', mountPath: '/data' }];
    const manifest = busyboxPod('devices', [], {
      metadata: NO_NETWORK,
      spec: {
        volumes: [{ name: 'data', emptyDir: {} }],
        containers: [
          { name: 'plain', image: BUSYBOX_ROOTFS, command: ['sh', '-c', unprivileged], volumeMounts: data },
          { name: 'priv', image: BUSYBOX_ROOTFS, command: ['sh', '-c', privileged], securityContext: { privileged: true } },
        ],
      },
    });
    const r = minipodSync(t, ['run', writeManifest(t, 'devices.json', manifest)]);
    expect(r.code, r.stderr).toBe(0);
    const devs = /plain +\| (.*\bnull\b.*)$/m.exec(r.stdout)![1]!.trim().split(/\s+/).sort();
    expect(devs).toEqual([
      'fd',
      'full',
      'mqueue',
      'null',
      'ptmx',
      'pts',
      'random',
      'shm',
      'stderr',
      'stdin',
      'stdout',
      'tty',
      'urandom',
      'zero',
    ]);
    expect(r.stdout).toMatch(/plain +\| dev-refused$/m);
    expect(r.stdout).toMatch(/plain +\| vol-refused$/m);
    expect(r.stdout).toMatch(/plain +\| null-ok$/m);
    for (const d of ['/dev/kmsg', '/dev/loop-control'].filter((p) => fs.existsSync(p))) {
      expect(r.stdout).toMatch(new RegExp(`priv +\\| has ${d}$`, 'm'));
    }
    const hostCount = fs.readdirSync('/dev').length;
    const count = Number(/priv +\| (\d+)$/m.exec(r.stdout)![1]);
    expect(count).toBeGreaterThan(devs.length);
    expect(count).toBeLessThanOrEqual(hostCount + devs.length);
  });

  it('makes a secret volume group-readable by fsGroup (0400 keys become 0440), as kubelet does', () => {
    const yaml = `apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: fsgroup-secret, annotations: {minipod.io/network: none}}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1000, fsGroup: 2000}
  # 256 is 0400: written in decimal, as a YAML 1.2 reader takes 0400 for four hundred.
  volumes: [{name: creds, secret: {secretName: creds, defaultMode: 256}}]
  containers:
  - name: app
    image: ${BUSYBOX_ROOTFS}
    command: [sh, -c, 'ls -lnL /creds/token; cat /creds/token; echo']
    volumeMounts: [{name: creds, mountPath: /creds}]
`;
    const r = minipodSync(t, ['run', writeManifest(t, 'fsgroup-secret.yaml', yaml)]);
    expect(r.code, r.stderr).toBe(0);
    // Readable by uid 1000 only through the group: owner root, mode 0440, group fsGroup.
    expect(r.stdout).toMatch(/app +\| -r--r----- +1 +0 +2000 .*\/creds\/token$/m);
    expect(r.stdout).toMatch(/app +\| s3cret$/m);
  });

  it('sets namespaced sysctls inside the pod only, and refuses host-wide ones', () => {
    const names = ['net.ipv4.ip_unprivileged_port_start', 'kernel.shm_rmid_forced', 'kernel.msgmax'];
    const before = names.map(hostSysctl);
    const want = [before[0] === '80' ? '81' : '80', before[1] === '1' ? '0' : '1', before[2] === '12345' ? '12346' : '12345'];
    const manifest = busyboxPod(
      'sysctls',
      [['app', `echo got $(cat ${names.map((n) => `/proc/sys/${n.replace(/\./g, '/')}`).join(' ')})`]],
      {
        metadata: NO_NETWORK,
        spec: { securityContext: { sysctls: names.map((name, i) => ({ name, value: want[i] })) } },
      },
    );
    const r = minipodSync(t, ['run', writeManifest(t, 'sysctls.json', manifest)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`got ${want.join(' ')}`);
    expect(names.map(hostSysctl)).toEqual(before);

    const hostWide = busyboxPod('hostwide', [['app', 'true']], {
      spec: { securityContext: { sysctls: [{ name: 'vm.swappiness', value: '1' }] } },
    });
    const refused = minipodSync(t, ['run', writeManifest(t, 'hostwide.json', hostWide)]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toMatch(/spec\.securityContext\.sysctls\[0\]\.name: "vm\.swappiness" is not a namespaced sysctl/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    // Namespaced by name but unknown to this kernel: refused at start, nothing left behind.
    const missing = busyboxPod('nosysctl', [['app', 'true']], {
      metadata: NO_NETWORK,
      spec: { securityContext: { sysctls: [{ name: 'net.ipv4.no_such_thing', value: '1' }] } },
    });
    const failed = minipodSync(t, ['run', writeManifest(t, 'nosysctl.json', missing)]);
    expect(failed.code).toBe(125);
    expect(failed.stderr).toMatch(/spec\.securityContext\.sysctls\[0\]\.name: net\.ipv4\.no_such_thing: no such sysctl/);
    expect(inspect(t, 'nosysctl')).toBeUndefined();
  });

  it("writes hostAliases into the pod's /etc/hosts", () => {
    const manifest = busyboxPod(
      'aliases',
      [
        [
          'app',
          'cat /etc/hosts; ping -c1 -W1 foo.local >/dev/null 2>&1; nslookup bar.local 2>/dev/null | tail -n +1 >/dev/null; echo done',
        ],
      ],
      {
        metadata: NO_NETWORK,
        spec: {
          hostAliases: [
            { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
            { ip: '10.1.2.3', hostnames: ['foo.remote'] },
          ],
        },
      },
    );
    const r = minipodSync(t, ['run', writeManifest(t, 'aliases.json', manifest)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /app +\| # Entries added by HostAliases\.\n.*app +\| 127\.0\.0\.1\tfoo\.local\tbar\.local\n.*app +\| 10\.1\.2\.3\tfoo\.remote\n/,
    );
  });

  describe('grpc probes', () => {
    let server: HealthServer;
    beforeAll(async () => {
      server = await startHealthServer('127.0.0.1');
    });
    afterAll(() => server?.close());

    it('is ready while the health service answers SERVING and not once it answers NOT_SERVING', async () => {
      server.statuses.set('shop.v1', ServingStatus.SERVING);
      const manifest = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'grpc' },
        spec: {
          hostNetwork: true,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image: BUSYBOX_ROOTFS,
              command: ['sleep', '1000'],
              readinessProbe: { grpc: { port: server.port, service: 'shop.v1' }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
        },
      };
      const r = minipodSync(t, ['run', '-d', writeManifest(t, 'grpc.json', manifest)]);
      expect(r.code, r.stderr).toBe(0);
      await waitFor('ready on SERVING', () => inspect(t, 'grpc')?.containers[0]?.ready, 15_000);
      expect(server.requests).toContain('shop.v1');
      server.statuses.set('shop.v1', ServingStatus.NOT_SERVING);
      await waitFor('not ready on NOT_SERVING', () => inspect(t, 'grpc')?.containers[0]?.ready === false, 15_000);
      server.statuses.set('shop.v1', ServingStatus.SERVING);
      await waitFor('ready again', () => inspect(t, 'grpc')?.containers[0]?.ready, 15_000);
    });
  });
});
