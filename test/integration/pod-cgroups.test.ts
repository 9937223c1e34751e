/**
 * Issue 3 through real pods: the kernel enforces the manifest's limits in the pod's cgroups
 * (OOM kill reported as OOMKilled/137, pids-max stops a fork loop, a 200m cpu limit throttles
 * a busy loop), `inspect` shows the cgroup paths, and nothing is left afterwards. Runs on this
 * project's hybrid hosts and, in the VM tests, on a pure cgroup v2 kernel.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
  inspect,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

function pod(name: string, container: object, annotations: Record<string, string> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: { 'minipod.io/network': 'none', ...annotations } },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: BUSYBOX_ROOTFS, ...container }] },
  };
}

describe.skipIf(!isRoot)('pod cgroups (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('cg')));
  afterAll(() => t?.cleanup());

  it('reports a container killed by the OOM killer as OOMKilled with exit 137', async () => {
    const manifest = pod('oom', {
      command: ['sh', '-c', 'echo start; exec dd if=/dev/zero of=/dev/null bs=256M count=1'],
      resources: { limits: { memory: '32Mi' } },
    });
    const r = await minipod(t, ['run', writeManifest(t, 'oom.json', manifest)]);
    expect(r.stdout).toMatch(/c \| start/);
    expect(r.stderr).toMatch(/container c exited with code 137 \(OOMKilled\)/);
    expect(r.code).toBe(137);
  });

  it('kills the whole container when a child is OOM-killed while the main process lives on (137, OOMKilled)', async () => {
    // The shell survives its dd child's OOM kill and would sleep for a minute: the container
    // must go at once, as on Kubernetes 1.28+ (memory.oom.group on v2, the OOM counter on v1).
    const manifest = pod('oomchild', {
      command: ['sh', '-c', 'echo start; dd if=/dev/zero of=/dev/null bs=256M count=1; echo dd-died; exec sleep 60'],
      resources: { limits: { memory: '32Mi' } },
    });
    const started = Date.now();
    const r = await minipod(t, ['run', writeManifest(t, 'oomchild.json', manifest)], { timeoutMs: 45_000 });
    expect(r.stdout).toMatch(/c \| start/);
    expect(r.stderr).toMatch(/container c exited with code 137 \(OOMKilled\)/);
    expect(r.code).toBe(137);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('stops a fork loop at minipod.io/pids-max', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'forks', annotations: { 'minipod.io/network': 'none', 'minipod.io/pids-max': '20' } },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'idle', image: BUSYBOX_ROOTFS, command: ['sleep', '1000'] },
          // The shell exits at the first refused fork and the runtime then reaps its children, so
          // the count is taken from its own log ("forked N") rather than raced with stats. It
          // starts forking once idle's sleep runs: until then idle's setup helper (a Node process,
          // ~10 threads) is in the pod's cgroup and counts against pids.max, as runc init does
          // (slow under qemu TCG, where the forker once got only 8 forks in).
          {
            name: 'forker',
            image: BUSYBOX_ROOTFS,
            command: [
              'sh',
              '-c',
              'until pidof sleep >/dev/null; do usleep 100000; done; i=0; while :; do sleep 1000 & i=$((i+1)); echo forked $i; done',
            ],
          },
        ],
      },
    };
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'forks.json', manifest)]).code).toBe(0);
    try {
      await waitFor('the kernel to refuse a fork', () => minipodSync(t, ['logs', 'forks', 'forker']).stderr.includes("can't fork"));
      const forked = [...minipodSync(t, ['logs', 'forks', 'forker']).stdout.matchAll(/forked (\d+)/g)].map((m) => Number(m[1]));
      const mostForked = Math.max(...forked);
      expect(mostForked).toBeGreaterThan(10);
      expect(mostForked).toBeLessThan(20);
      const stats = JSON.parse(minipodSync(t, ['stats', '--no-stream', '--format', 'json', 'forks']).stdout) as {
        container: string;
        pids: number;
      }[];
      expect(stats.find((s) => s.container === '')!.pids).toBeLessThanOrEqual(20);
    } finally {
      expect(minipodSync(t, ['rm', '-f', 'forks']).code).toBe(0);
    }
  });

  it('throttles a busy loop to its 200m cpu limit and shows the cgroup paths in inspect', async () => {
    const manifest = pod('cpu', { command: ['sh', '-c', 'while :; do :; done'], resources: { limits: { cpu: '200m', memory: '64Mi' } } });
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'cpu.json', manifest)]).code).toBe(0);
    try {
      const state = await waitFor('running', () => inspect(t, 'cpu')?.containers[0]?.state === 'running' && inspect(t, 'cpu'));
      const paths = state.containers[0]!.cgroupPaths;
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) expect(p).toMatch(new RegExp(`/${t.env.MINIPOD_CGROUP_PARENT}/cpu/c$`));
      const stats = JSON.parse(minipodSync(t, ['stats', '--no-stream', '--format', 'json', 'cpu']).stdout) as {
        container: string;
        cpuPercent: number;
        cpuThrottledPeriods: number;
        memLimitBytes: number;
      }[];
      const row = stats.find((s) => s.container === 'c')!;
      expect(row.cpuThrottledPeriods).toBeGreaterThan(0);
      expect(row.cpuPercent).toBeGreaterThan(5);
      expect(row.cpuPercent).toBeLessThan(40);
      expect(row.memLimitBytes).toBe(64 * 1024 * 1024);
      // The kernel's own files say the same.
      const cpuDir = paths.find((p) => fs.existsSync(`${p}/cpu.max`) || fs.existsSync(`${p}/cpu.cfs_quota_us`))!;
      const quota = fs.existsSync(`${cpuDir}/cpu.max`)
        ? fs.readFileSync(`${cpuDir}/cpu.max`, 'utf8').trim()
        : `${fs.readFileSync(`${cpuDir}/cpu.cfs_quota_us`, 'utf8').trim()} ${fs.readFileSync(`${cpuDir}/cpu.cfs_period_us`, 'utf8').trim()}`;
      expect(quota).toBe('20000 100000');
    } finally {
      expect(minipodSync(t, ['rm', '-f', 'cpu']).code).toBe(0);
    }
    const gone = inspect(t, 'cpu');
    expect(gone).toBeUndefined();
  });
});
