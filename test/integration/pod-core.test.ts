/**
 * Issue 2's acceptance, for real: two busybox containers in one pod share localhost, PIDs,
 * /dev/shm and the hostname, keep separate filesystems, never change the image, and `run`
 * exits with the right code; bad input is refused with one line, exit 125, and nothing made.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
  CONTAINER_MONITOR,
  MINIPOD,
  busyboxPod,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';
import { isDaemonInfrastructure, leaksSince, snapshotHost } from '../support/host-leaks.js';

describe.skipIf(!isRoot)('a pod of two busybox containers (root)', () => {
  let t: TestEnv;
  let rootfsDir: string;
  beforeAll(() => {
    t = makeTestEnv('core');
    // A directory image too, to check that the image on disk is never changed.
    rootfsDir = path.join(t.dir, 'rootfs');
    fs.mkdirSync(rootfsDir);
    execFileSync('tar', ['-xf', BUSYBOX_ROOTFS, '-C', rootfsDir]);
  });
  afterAll(() => t?.cleanup());

  it('shares localhost, PIDs, /dev/shm and hostname; separates filesystems; exits with the failing code', async () => {
    const pod = busyboxPod('core', [
      ['server', 'echo from-server > /dev/shm/token; touch /only-in-server; nc -l -p 8080 -e echo pong; sleep 0.5'],
      [
        'client',
        [
          'for i in $(seq 50); do [ -f /dev/shm/token ] && break; sleep 0.1; done',
          'echo "shm=$(cat /dev/shm/token)"',
          'echo "hostname=$(hostname)"',
          'echo "pids=$(ps -o args | tr "\\n" " ")"',
          'echo "net=$(echo ping | nc 127.0.0.1 8080)"',
          '[ -e /only-in-server ] && echo "fs=shared" || echo "fs=separate"',
          'echo "pid1=$(cat /proc/1/cmdline | tr "\\0" " ")"',
          'touch /bin/written-by-client',
          'exit 7',
        ].join('; '),
      ],
    ]);
    (pod as { spec: { containers: { image: string }[] } }).spec.containers[1]!.image = rootfsDir;
    const r = await minipod(t, ['run', writeManifest(t, 'core.json', pod)]);
    expect(r.stdout).toMatch(/client +\| shm=from-server/);
    expect(r.stdout).toMatch(/client +\| hostname=core/);
    expect(r.stdout).toMatch(/client +\| pids=.*catatonit.*nc/);
    expect(r.stdout).toMatch(/client +\| net=pong/);
    expect(r.stdout).toMatch(/client +\| fs=separate/);
    expect(r.stdout).toMatch(/client +\| pid1=catatonit -P/);
    expect(r.code).toBe(7);
    expect(fs.existsSync(path.join(rootfsDir, 'bin/written-by-client'))).toBe(false);
    // CRI log lines: the daemon writes UTC (`Z`); conmon's k8s-file writes local time with its
    // offset (`+00:00`), which kubelet's reader (and src/logs) takes as well.
    const log = fs.readFileSync(path.join(t.env.MINIPOD_LOG_DIR!, 'core', 'client.log'), 'utf8');
    const zone = CONTAINER_MONITOR === 'conmon' ? '[+-]\\d\\d:\\d\\d' : 'Z';
    expect(log).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}${zone} stdout F shm=from-server$`, 'm'));
  });

  it('returns 0 when every container succeeds and leaves no state behind', async () => {
    const r = await minipod(t, [
      'run',
      writeManifest(
        t,
        'ok.json',
        busyboxPod('ok', [
          ['a', 'true'],
          ['b', 'echo hi'],
        ]),
      ),
    ]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods'))).toEqual([]);
    expect(fs.readdirSync(path.join(t.env.MINIPOD_LIB_DIR!, 'pods'))).toEqual([]);
  });

  it('reports 127 for a command that does not exist and 126 for one that cannot run', async () => {
    const nf = await minipod(t, [
      'run',
      writeManifest(t, 'nf.json', {
        ...busyboxPod('nf', []),
        spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: BUSYBOX_ROOTFS, command: ['no-such-command'] }] },
      }),
    ]);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toMatch(/no-such-command.*not found/);
    const na = await minipod(t, [
      'run',
      writeManifest(t, 'na.json', {
        ...busyboxPod('na', []),
        spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: BUSYBOX_ROOTFS, command: ['/etc/passwd'] }] },
      }),
    ]);
    expect(na.code).toBe(126);
  });

  it('gives a stdin: true, tty: true container an input that ends at once and TERM, as `run` has no input to give', async () => {
    const pod = busyboxPod('input', [['c', 'cat; echo "stdin-ended term=$TERM"']]);
    Object.assign((pod as { spec: { containers: object[] } }).spec.containers[0]!, { stdin: true, tty: true });
    const r = await minipod(t, ['run', writeManifest(t, 'input.json', pod)], { timeoutMs: 30_000 });
    expect(r.stdout).toMatch(/c +\| stdin-ended term=xterm/);
    expect(r.code, r.stderr).toBe(0);
  });

  it("reaps orphans: the pod's init leaves no zombie behind", async () => {
    const pod = busyboxPod('orphans', [
      ['a', 'for i in 1 2 3 4 5; do (sleep 0.1 &); done; sleep 1; echo "zombies=$(ps -o stat | grep -c Z)"'],
    ]);
    const r = await minipod(t, ['run', writeManifest(t, 'orphans.json', pod)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/zombies=0/);
  });

  it('keeps each container apart from the host: masked /proc, read-only /sys, default capabilities, no_new_privs', async () => {
    const pod = {
      ...busyboxPod('sec', []),
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'probe',
            image: BUSYBOX_ROOTFS,
            command: [
              'sh',
              '-c',
              [
                'echo "keys=$(wc -c < /proc/keys)"',
                'touch /sys/x 2>/dev/null && echo sys=rw || echo sys=ro',
                'echo "sysrq=$(echo h > /proc/sysrq-trigger 2>&1 && echo writable || echo blocked)"',
                'grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status | tr "\\t\\n" "  "; echo',
                'ls /proc/1/root/ >/dev/null 2>&1 && echo root=visible || echo root=hidden',
                'id',
              ].join('; '),
            ],
            securityContext: { allowPrivilegeEscalation: false, runAsUser: 1000, runAsGroup: 1000, capabilities: { drop: ['NET_RAW'] } },
          },
        ],
      },
    };
    const r = await minipod(t, ['run', writeManifest(t, 'sec.json', pod)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/keys=0/);
    expect(r.stdout).toMatch(/sys=ro/);
    expect(r.stdout).toMatch(/sysrq=blocked/);
    // Docker's default set without NET_RAW (bit 13): 0xa80425fb & ~0x2000.
    expect(r.stdout).toMatch(/CapBnd:\s+00000000a80405fb/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(r.stdout).toMatch(/root=hidden/);
    expect(r.stdout).toMatch(/uid=1000\(user\) gid=1000\(user\)/);
  });
});

describe.skipIf(!isRoot)('bad input (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('bad')));
  afterAll(() => t?.cleanup());

  const cases: [string, object | string, RegExp][] = [
    [
      'a bad quantity',
      {
        ...busyboxPod('q', [['a', 'true']]),
        spec: { containers: [{ name: 'a', image: BUSYBOX_ROOTFS, resources: { limits: { memory: '12XB' } } }] },
      },
      /spec\.containers\[0\]\.resources\.limits\.memory: "12XB" is not a valid quantity/,
    ],
    [
      'an unknown field',
      { ...busyboxPod('u', [['a', 'true']]), spec: { containers: [{ name: 'a', image: BUSYBOX_ROOTFS, foo: 1 }] } },
      /spec\.containers\[0\]\.foo/,
    ],
    [
      'a duplicate container name',
      busyboxPod('d', [
        ['a', 'true'],
        ['a', 'true'],
      ]),
      /spec\.containers\[1\]\.name/,
    ],
    [
      'a missing image',
      { ...busyboxPod('m', []), spec: { containers: [{ name: 'a', image: '/nonexistent/rootfs.tar' }] } },
      /spec\.containers\[0\]\.image/,
    ],
    // Deployments and the other workload kinds run now: a kind minipod has no use for is the case.
    ['YAML that is not a Pod', 'kind: Service\napiVersion: v1\nmetadata:\n  name: web\n', /kind|apiVersion/],
  ];
  for (const [what, manifest, message] of cases) {
    it(`refuses ${what} with one line, exit 125, nothing created`, () => {
      const before = snapshotHost();
      const r = minipodSync(t, ['run', writeManifest(t, `bad-${what.replace(/\W+/g, '-')}.yaml`, manifest)]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(leaksSince(before).filter((l) => !isDaemonInfrastructure(l))).toEqual([]);
      const pods = path.join(t.env.MINIPOD_RUN_DIR!, 'pods');
      expect(fs.existsSync(pods) ? fs.readdirSync(pods) : []).toEqual([]);
    });
  }

  it('tells a non-root user to use sudo', () => {
    const manifest = writeManifest(t, 'nonroot.json', busyboxPod('nonroot', [['a', 'true']]));
    fs.chmodSync(t.dir, 0o755);
    fs.chmodSync(manifest, 0o644);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, MINIPOD, 'run', manifest], {
      encoding: 'utf8',
      env: t.env,
    });
    expect(r.status).toBe(125);
    expect(r.stderr.trim()).toMatch(/^minipod: .*sudo$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
