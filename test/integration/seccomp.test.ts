/**
 * Seccomp, for real (root): a static probe (test/support/probes/seccomp-probe.c, built here
 * with Debian's gcc) runs in busybox containers and prints the errno of each call a default
 * profile must refuse, plus NoNewPrivs and Seccomp from /proc/self/status.
 *
 * podman 4.3's default on the same image (docs/security.md, /work/shared/notes/peers.md):
 * Seccomp 2; bpf, perf_event_open, open_by_handle_at, kexec_load EPERM; add_key ENOSYS. Ours
 * refuses the same and more (mount, unshare, clone of namespaces without CAP_SYS_ADMIN).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDaemonInfrastructure, leaksSince, snapshotHost } from '../support/host-leaks.js';
import {
  MINIPOD,
  REPO,
  busyboxPod,
  inspect,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

const PROBE_SOURCE = path.join(REPO, 'test/support/probes/seccomp-probe.c');
const CONTAINERS_COMMON_PROFILE = '/usr/share/containers/seccomp.json';
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

/** The probe's lines of one container in an attached run's output: name -> value. */
function probeResults(stdout: string, container: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = new RegExp(`^${container} +\\| (.*)$`, 'gm');
  for (const m of stdout.matchAll(re)) {
    const line = m[1]!;
    const kv = /^(\w+)=(\S+)$/.exec(line) ?? /^(Seccomp|NoNewPrivs):\s+(\d+)$/.exec(line);
    if (kv) out[kv[1]!] = kv[2]!;
  }
  return out;
}

/** What the default profile answers for each probe call (container without CAP_SYS_ADMIN). */
const DEFAULT_DENIALS: Record<string, string> = {
  bpf: 'EPERM',
  perf_event_open: 'EPERM',
  open_by_handle_at: 'EPERM',
  add_key: 'EPERM',
  keyctl: 'EPERM',
  request_key: 'EPERM',
  kexec_load: 'EPERM',
  init_module: 'EPERM',
  finit_module: 'EPERM',
  setns: 'EPERM',
  mount: 'EPERM',
  umount2: 'EPERM',
  userfaultfd: 'EPERM',
  clone_newuser: 'EPERM',
  unshare_mnt: 'EPERM',
  unshare_user: 'EPERM',
  // Not listed: "not implemented", so programs fall back.
  personality: 'ENOSYS',
  clone3: 'ENOSYS',
  io_uring_setup: 'ENOSYS',
};

describe.skipIf(!isRoot || !hasGcc)('seccomp (root, gcc)', () => {
  let t: TestEnv;
  let probeDir: string;

  beforeAll(() => {
    t = makeTestEnv('seccomp');
    probeDir = path.join(t.dir, 'probe');
    fs.mkdirSync(probeDir);
    execFileSync('gcc', ['-static', '-O1', '-Wall', '-o', path.join(probeDir, 'seccomp-probe'), PROBE_SOURCE]);
    fs.chmodSync(t.dir, 0o755);
  });
  afterAll(() => t?.cleanup());

  /** A busybox pod whose containers run the probe from a hostPath volume. */
  function probePod(name: string, containers: { name: string; securityContext?: object; script?: string }[], podSecurity?: object): object {
    const pod = busyboxPod(
      name,
      containers.map((c) => [c.name, c.script ?? '/probe/seccomp-probe']),
      {
        spec: {
          volumes: [{ name: 'probe', hostPath: { path: probeDir } }],
          ...(podSecurity ? { securityContext: podSecurity } : {}),
        },
      },
    ) as { spec: { containers: Record<string, unknown>[] } };
    pod.spec.containers.forEach((c, i) => {
      c.volumeMounts = [{ name: 'probe', mountPath: '/probe', readOnly: true }];
      c.env = [{ name: 'MINIPOD_SECCOMP_PROBE', value: '1' }];
      if (containers[i]!.securityContext) c.securityContext = containers[i]!.securityContext;
    });
    return pod;
  }

  it('the default profile refuses each call, for root and non-root, with and without no_new_privs', async () => {
    const pod = probePod('sc-default', [
      { name: 'root' },
      { name: 'user', securityContext: { runAsUser: 1000, runAsGroup: 1000 } },
      { name: 'nnp', securityContext: { allowPrivilegeEscalation: false } },
    ]);
    const r = await minipod(t, ['run', writeManifest(t, 'default.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    for (const c of ['root', 'user', 'nnp']) {
      const got = probeResults(r.stdout, c);
      expect(got.getpid, `${c}: ${r.stdout}`).toBe('ok');
      expect(got.Seccomp, c).toBe('2');
      for (const [call, errno] of Object.entries(DEFAULT_DENIALS)) expect(`${c} ${call}=${got[call]}`).toBe(`${c} ${call}=${errno}`);
    }
    expect(probeResults(r.stdout, 'root').NoNewPrivs).toBe('0');
    expect(probeResults(r.stdout, 'nnp').NoNewPrivs).toBe('1');
  });

  it('Unconfined (pod level) loads no filter: the kernel decides', async () => {
    const pod = probePod(
      'sc-unconfined',
      [{ name: 'free' }, { name: 'boxed', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }],
      {
        seccompProfile: { type: 'Unconfined' },
      },
    );
    const r = await minipod(t, ['run', writeManifest(t, 'unconfined.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    const free = probeResults(r.stdout, 'free');
    expect(free.Seccomp).toBe('0');
    // Calls the kernel allows a root process without CAP_SYS_ADMIN, which the filter refused.
    for (const call of ['add_key', 'keyctl', 'personality', 'userfaultfd']) expect(`${call}=${free[call]}`).toBe(`${call}=ok`);
    expect(free.clone3).not.toBe('ENOSYS');
    // The container's own setting wins over the pod's.
    expect(probeResults(r.stdout, 'boxed').Seccomp).toBe('2');
  });

  it('privileged: true loads no filter', async () => {
    // A privileged container gets every capability, which a host whose own bounding set lacks
    // one cannot give (these machines lack CAP_SYS_RESOURCE, bit 24): leave that one out.
    const hostBounding = BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`);
    const securityContext = { privileged: true, ...((hostBounding >> 24n) & 1n ? {} : { capabilities: { drop: ['SYS_RESOURCE'] } }) };
    const r = await minipod(t, ['run', writeManifest(t, 'priv.json', probePod('sc-priv', [{ name: 'priv', securityContext }]))]);
    expect(r.code, r.stderr).toBe(0);
    expect(probeResults(r.stdout, 'priv').Seccomp).toBe('0');
  });

  it.skipIf(!fs.existsSync(CONTAINERS_COMMON_PROFILE))("Localhost: containers-common's seccomp.json works as a profile", async () => {
    const dir = path.join(t.env.MINIPOD_LIB_DIR!, 'seccomp', 'podman');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(CONTAINERS_COMMON_PROFILE, path.join(dir, 'seccomp.json'));
    const pod = probePod('sc-local', [
      { name: 'cc', securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'podman/seccomp.json' } } },
    ]);
    const r = await minipod(t, ['run', writeManifest(t, 'local.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    const got = probeResults(r.stdout, 'cc');
    // podman's answers: EPERM for what it lists, ENOSYS for what it does not know.
    expect(got).toMatchObject({
      Seccomp: '2',
      getpid: 'ok',
      bpf: 'EPERM',
      perf_event_open: 'EPERM',
      open_by_handle_at: 'EPERM',
      kexec_load: 'EPERM',
      add_key: 'ENOSYS',
      userfaultfd: 'EPERM',
      keyctl: 'ok',
    });
  });

  it('busybox tools still work under the default profile (nginx: example-blog.test.ts)', async () => {
    const pod = busyboxPod('sc-tools', [
      [
        'tools',
        [
          'ps >/dev/null && echo ps=ok',
          'wget -q -O /dev/null http://127.0.0.1:1 2>/dev/null; echo wget-ran',
          'sh -c "echo nested=ok"',
          '(sleep 0.1 &) ; wait; echo bg=ok',
          'grep Seccomp: /proc/self/status',
        ].join('; '),
      ],
    ]);
    const r = await minipod(t, ['run', writeManifest(t, 'tools.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ps=ok/);
    expect(r.stdout).toMatch(/nested=ok/);
    expect(r.stdout).toMatch(/bg=ok/);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
  });

  describe('bad input: one line naming the field, exit 125, nothing created', () => {
    const cases: [string, object, RegExp][] = [
      [
        'a missing Localhost profile',
        { type: 'Localhost', localhostProfile: 'nope.json' },
        /^minipod: spec\.containers\[0\]\.securityContext\.seccompProfile\.localhostProfile: .*nope\.json: no such file$/,
      ],
      [
        'a profile that does not parse',
        { type: 'Localhost', localhostProfile: 'broken.json' },
        /^minipod: spec\.containers\[0\]\.securityContext\.seccompProfile\.localhostProfile: .*broken\.json: syscalls\[0\]\.action: "SCMP_ACT_MAYBE" is not one of/,
      ],
      [
        'an unknown profile type',
        { type: 'Strict' },
        /^minipod: spec\.containers\[0\]\.securityContext\.seccompProfile\.type: "Strict" is not one of RuntimeDefault, Unconfined, Localhost$/,
      ],
      [
        'a path out of the seccomp directory',
        { type: 'Localhost', localhostProfile: '../escape.json' },
        /seccompProfile\.localhostProfile: "\.\.\/escape\.json" must not contain "\.\."/,
      ],
    ];
    for (const [what, seccompProfile, message] of cases) {
      it(`refuses ${what}`, () => {
        const dir = path.join(t.env.MINIPOD_LIB_DIR!, 'seccomp');
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(
          path.join(dir, 'broken.json'),
          JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_MAYBE' }] }),
        );
        const before = snapshotHost();
        const pod = busyboxPod('sc-bad', [['a', 'true']]) as { spec: { containers: Record<string, unknown>[] } };
        pod.spec.containers[0]!.securityContext = { seccompProfile };
        const r = minipodSync(t, ['run', writeManifest(t, 'bad.json', pod)]);
        expect(r.code).toBe(125);
        expect(r.stderr.trim()).toMatch(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(leaksSince(before).filter((l) => !isDaemonInfrastructure(l))).toEqual([]);
        const pods = path.join(t.env.MINIPOD_RUN_DIR!, 'pods');
        expect(fs.existsSync(pods) ? fs.readdirSync(pods) : []).toEqual([]);
      });
    }
  });

  describe("minipod exec and exec probes get the container's filter", () => {
    let run: ChildProcess;
    let runExit: Promise<number | null>;
    let output = '';
    beforeAll(async () => {
      const pod = probePod('sc-exec', [
        { name: 'app', script: 'exec sleep 1000' },
        { name: 'free', script: 'exec sleep 1000', securityContext: { seccompProfile: { type: 'Unconfined' } } },
      ]) as { spec: { containers: Record<string, unknown>[] } };
      // An exec probe whose result depends on the filter: keyctl is refused under it.
      pod.spec.containers[0]!.readinessProbe = {
        exec: { command: ['sh', '-c', 'MINIPOD_SECCOMP_PROBE=1 /probe/seccomp-probe | grep -q "^keyctl=EPERM$"'] },
        periodSeconds: 1,
      };
      run = spawn(MINIPOD, ['run', writeManifest(t, 'exec.json', pod)], { env: t.env, stdio: ['ignore', 'pipe', 'pipe'] });
      run.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      run.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      runExit = new Promise((resolve) => run.once('exit', (code) => resolve(code)));
      await waitFor(`pod sc-exec running (${output})`, () => {
        const p = inspect(t, 'sc-exec');
        return p?.containers.every((c) => c.state === 'running');
      });
    });
    afterAll(async () => {
      if (run && run.exitCode === null) {
        run.kill('SIGTERM');
        await runExit;
      }
      if (t) minipodSync(t, ['rm', '-f', 'sc-exec']);
    });

    it("exec runs under the container's profile (and none in an Unconfined container)", () => {
      const boxed = minipodSync(t, ['exec', '-e', 'MINIPOD_SECCOMP_PROBE=1', 'sc-exec', 'app', '--', '/probe/seccomp-probe']);
      expect(boxed.code, boxed.stderr).toBe(0);
      expect(boxed.stdout).toMatch(/^Seccomp:\s+2$/m);
      expect(boxed.stdout).toMatch(/^keyctl=EPERM$/m);
      expect(boxed.stdout).toMatch(/^bpf=EPERM$/m);
      const free = minipodSync(t, ['exec', '-e', 'MINIPOD_SECCOMP_PROBE=1', 'sc-exec', 'free', '--', '/probe/seccomp-probe']);
      expect(free.code, free.stderr).toBe(0);
      expect(free.stdout).toMatch(/^Seccomp:\s+0$/m);
      expect(free.stdout).toMatch(/^keyctl=ok$/m);
    });

    it('an exec readiness probe sees the filter', async () => {
      await waitFor(`app ready (${output})`, () => inspect(t, 'sc-exec')?.containers.find((c) => c.name === 'app')?.ready);
    });
  });
});
