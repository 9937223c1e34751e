/**
 * The cgroup manager on this real host (hybrid here; unified in the VM tests): the KERNEL must
 * enforce what the plan wrote. Plain `sh -c` children stand in for containers: each waits on
 * stdin until the test has put it into its cgroup, then runs its workload.
 *
 * Everything lives under a parent named `minipod-test-<pid>` and is destroyed in afterEach /
 * afterAll even when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { detectCgroupMode } from '../../src/cgroups/detect.js';
import { createCgroupManager, type CgroupManager } from '../../src/cgroups/manager.js';
import { planPodCgroups } from '../../src/cgroups/plan.js';
import type { ContainerSpec, PodSpec } from '../../src/manifest/types.js';
import { container, Mi, pod } from '../unit/cgroups/pod.js';

const ROOT = '/sys/fs/cgroup';
const isRoot = process.getuid?.() === 0;
const hasCgroups = fs.existsSync(ROOT) && fs.readdirSync(ROOT).length > 0;
const PARENT = `minipod-test-${process.pid}`;

let counter = 0;
function podSpec(containers: ContainerSpec[], pidsMax?: number): PodSpec {
  const name = `cgt-${process.pid}-${++counter}`;
  return pod(containers, {
    name,
    hostname: name,
    terminationGracePeriodSeconds: 1,
    minipod: { network: 'none', swap: false, ...(pidsMax ? { pidsMax } : {}) },
  });
}

interface Held {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  release: () => void;
}

/** A shell that waits for a line on stdin, then runs script: time to put it into a cgroup. */
function held(script: string): Held {
  const child = spawn('sh', ['-c', `read _ ; ${script}`], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  children.push(child);
  return { child, exited, stderr: () => err, release: () => child.stdin!.write('go\n') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const manager: CgroupManager | undefined = isRoot && hasCgroups ? createCgroupManager({ root: ROOT, parent: PARENT }) : undefined;
const pods: string[] = [];
const children: ChildProcess[] = [];

function createPod(spec: PodSpec): string {
  const plan = planPodCgroups(spec, { version: manager!.version });
  pods.push(spec.name);
  manager!.create(plan);
  return spec.name;
}

/** Every directory named like our parent in any hierarchy. */
function leftovers(): string[] {
  const out: string[] = [];
  for (const h of fs.readdirSync(ROOT)) {
    const p = path.join(ROOT, h, PARENT);
    if (fs.existsSync(p)) out.push(p);
  }
  if (fs.existsSync(path.join(ROOT, PARENT))) out.push(path.join(ROOT, PARENT));
  return out;
}

afterEach(async () => {
  for (const pod of pods.splice(0)) {
    try {
      await manager!.destroy(pod);
    } catch (err) {
      console.error(`cleanup of pod ${pod} failed:`, err);
    }
  }
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(() => {
  manager?.removeParentIfEmpty();
});

const reason = !isRoot ? 'needs root (run with sudo)' : !hasCgroups ? `no cgroupfs at ${ROOT}` : '';
describe.skipIf(reason !== '')(`cgroups on this host (${reason || detectCgroupModeSafe()})`, () => {
  it('a memory limit OOM-kills the process and oomKillCount sees it in the container cgroup', async () => {
    const pod = createPod(podSpec([container('hog', { memoryBytes: 32 * Mi }), container('idle')]));
    const h = held('exec dd if=/dev/zero of=/dev/null bs=64M count=1');
    manager!.addProcess(pod, 'hog', h.child.pid!);
    h.release();
    const { signal } = await h.exited;
    expect(signal).toBe('SIGKILL');
    expect(manager!.oomKillCount(pod, 'hog')).toBeGreaterThan(0);
    expect(manager!.oomKillCount(pod, 'idle')).toBe(0);
    expect(manager!.effectiveLimits(pod, 'hog').memoryMaxBytes).toBe(32 * Mi);
  });

  it('pids.max of the pod stops a fork loop; a process can join by writing 0 to procsFiles', async () => {
    const pod = createPod(podSpec([container('forker')], 8));
    const files = manager!.procsFiles(pod, 'forker');
    // As the process-setup code will: the process moves itself, into every hierarchy, then runs.
    const joins = files.map((f) => `echo 0 > ${f}`).join(' && ');
    const h = held(`${joins} && i=0; while [ $i -lt 30 ]; do sleep 30 & i=$((i+1)); done; wait`);
    h.release();
    await waitFor(() => /fork|Resource temporarily unavailable/i.test(h.stderr()), 5000);
    // The shell gives up when fork fails; its sleeps stay, in the pod, every hierarchy.
    const inPod = manager!.pids(pod);
    expect(inPod.length).toBeGreaterThan(0);
    const own = fs.readFileSync(`/proc/${inPod[0]}/cgroup`, 'utf8');
    for (const f of files) {
      const rel = path.dirname(f).split(PARENT)[1];
      expect(own).toContain(`/${PARENT}${rel}`);
    }
    expect(inPod.length).toBeLessThanOrEqual(8);
    expect(manager!.stats(pod).pidsCurrent).toBeLessThanOrEqual(8);
    expect(manager!.stats(pod, 'forker').pidsMax).toBe(8);
    expect(manager!.populated(pod)).toBe(true);
  });

  it('cpu 200m throttles a busy loop to about a fifth of a CPU', async () => {
    const pod = createPod(podSpec([container('spin', { cpuMilli: 200 })]));
    const h = held('while :; do :; done');
    manager!.addProcess(pod, 'spin', h.child.pid!);
    h.release();
    // Measure once the loop is running in the cgroup (a busy host may start it late).
    await waitFor(() => manager!.stats(pod, 'spin').cpuUsageNs > 50_000_000, 10_000);
    const t0 = process.hrtime.bigint();
    const s0 = manager!.stats(pod, 'spin');
    await sleep(1500);
    const s1 = manager!.stats(pod, 'spin');
    const wall = Number(process.hrtime.bigint() - t0);
    const share = (s1.cpuUsageNs - s0.cpuUsageNs) / wall;
    expect(s1.nrThrottled).toBeGreaterThan(0);
    expect(s1.throttledNs).toBeGreaterThan(0);
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.4);
    console.log(`cpu 200m: ${(share * 100).toFixed(1)}% of a CPU, throttled ${s1.nrThrottled}/${s1.nrPeriods} periods`);
    expect(manager!.effectiveLimits(pod, 'spin').cpuLimitMilli).toBe(200);
  });

  it('destroy kills what is left and leaves no directory in any hierarchy', async () => {
    const pod = createPod(podSpec([container('a'), container('b')]));
    const paths = Object.values(manager!.paths(pod));
    const a = held('sleep 300');
    const b = held('sh -c "sleep 300 & sleep 300 & wait"');
    manager!.addProcess(pod, 'a', a.child.pid!);
    manager!.addProcess(pod, 'b', b.child.pid!);
    a.release();
    b.release();
    await waitFor(() => manager!.pids(pod).length >= 5, 3000);
    expect(manager!.listPods()).toContain(pod);
    await manager!.destroy(pod);
    pods.splice(pods.indexOf(pod), 1);
    expect((await a.exited).signal).toBe('SIGKILL');
    expect((await b.exited).signal).toBe('SIGKILL');
    for (const p of paths) expect(fs.existsSync(p)).toBe(false);
    expect(manager!.listPods()).not.toContain(pod);
  });

  it('without cgroup.kill (legacy mode forced), freezer + SIGKILL empties the pod', async () => {
    if (manager!.mode === 'unified') return; // no v1 hierarchies to force
    const legacy = createCgroupManager({ root: ROOT, parent: PARENT, mode: 'legacy' });
    const spec = podSpec([container('a')]);
    legacy.create(planPodCgroups(spec, { version: 'v1' }));
    try {
      const paths = Object.values(legacy.paths(spec.name));
      expect(paths.some((p) => p.includes('/unified/'))).toBe(false);
      const a = held('for i in 1 2 3 4 5; do sleep 300 & done; wait');
      legacy.addProcess(spec.name, 'a', a.child.pid!);
      a.release();
      await waitFor(() => legacy.pids(spec.name).length >= 6, 3000);
      await legacy.destroy(spec.name);
      expect((await a.exited).signal).toBe('SIGKILL');
      for (const p of paths) expect(fs.existsSync(p)).toBe(false);
    } finally {
      await legacy.destroy(spec.name).catch(() => {});
    }
  });

  it('a write the kernel refuses names the file and value and leaves nothing behind', async () => {
    const spec = podSpec([container('x')]);
    const plan = planPodCgroups(spec, { version: manager!.version });
    const x = plan.cgroups.find((c) => c.child === 'x')!;
    x.writes.push({ controller: 'cpu', file: manager!.version === 'v2' ? 'cpu.weight' : 'cpu.shares', value: 'banana' });
    expect(() => manager!.create(plan)).toThrow(/^write \/sys\/fs\/cgroup\/.*\/x\/cpu\.(weight|shares) = banana: EINVAL$/);
    expect(Object.values(manager!.paths(spec.name)).filter((p) => fs.existsSync(p))).toEqual([]);
  });

  it('the parent is gone once the last pod is destroyed', async () => {
    const pod = createPod(podSpec([container('a')]));
    expect(leftovers().length).toBeGreaterThan(0);
    await manager!.destroy(pod);
    pods.splice(pods.indexOf(pod), 1);
    expect(leftovers()).toEqual([]);
  });
});

function detectCgroupModeSafe(): string {
  try {
    return `${detectCgroupMode(ROOT)} mode`;
  } catch {
    return 'unknown mode';
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}
