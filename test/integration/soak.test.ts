/**
 * The chaos soak (root): cycles of pod start and stop with `kill -9` at a random moment of the
 * daemon, the attached `run` client, a container, a helper mid-start or the pod's init, then
 * `rm -f`, and now and then `gc`. After each cycle nothing of that pod may remain (state dirs,
 * network state, IPAM lease, port reservation, cgroups, processes); after the last, `gc` and
 * `daemon stop` must leave the host as it was (mounts, cgroups, netns, links, iptables, processes,
 * net.ipv4.ip_forward) and a new pod must start cleanly.
 *
 * `SOAK_CYCLES` (default 10 here; `npm run soak` runs 200), `SOAK_SEED` replays a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaksSince, snapshotHost, type HostSnapshot } from '../support/host-leaks.js';
import { MINIPOD, busyboxPod, makeTestEnv, minipodSync, networkSkipReason, writeManifest, type TestEnv } from '../support/minipod.js';

const CYCLES = Number(process.env.SOAK_CYCLES ?? 10);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const KINDS = ['daemon', 'client', 'container', 'helper', 'init', 'none'] as const;
type KillKind = (typeof KINDS)[number];

/** mulberry32: a small seeded generator, so a failing run can be replayed with SOAK_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function cgroupOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return '';
  }
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

interface PodRecord {
  init?: { pid: number };
  containers?: { pid?: number; state?: string }[];
}

function podRecord(t: TestEnv, pod: string): PodRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', pod, 'state.json'), 'utf8')) as PodRecord;
  } catch {
    return undefined;
  }
}

/** Processes in the pod's cgroups (any hierarchy): the pod's own, whatever minipod thinks. */
function pidsInPodCgroup(t: TestEnv, pod: string): number[] {
  const needle = `/${t.env.MINIPOD_CGROUP_PARENT}/${pod}/`;
  return allPids().filter((p) => cgroupOf(p).includes(needle) || cgroupOf(p).includes(`/${t.env.MINIPOD_CGROUP_PARENT}/${pod}\n`));
}

/** The pid `kind` names for this pod right now, if there is one. */
function target(t: TestEnv, kind: KillKind, pod: string, client: ChildProcess): number | undefined {
  switch (kind) {
    case 'daemon':
      // The daemon serving this pod, once it has claimed the name. Before that, the daemon in
      // daemon.pid may be one this client never reached (the previous cycle's): its client then
      // rightly starts a daemon of its own, whose pod would start after this cycle's `rm -f`
      // and run on (the attached client "did not exit", a detached pod leaked).
      return fs.existsSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', pod))
        ? readPid(path.join(t.env.MINIPOD_RUN_DIR!, 'daemon.pid'))
        : undefined;
    case 'client':
      return client.exitCode === null ? client.pid : undefined;
    case 'container':
      return podRecord(t, pod)?.containers?.find((c) => c.state === 'running' && c.pid)?.pid;
    case 'init':
      return podRecord(t, pod)?.init?.pid;
    case 'helper':
      // A helper that was given to this pod and has not exec'd yet: in the pod's cgroup, still node.
      return pidsInPodCgroup(t, pod).find((p) => cmdline(p).includes('helper-main.js'));
    case 'none':
      return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** What one pod can leave in minipod's own dirs, by path. */
function podLeftovers(t: TestEnv, pod: string): string[] {
  const out: string[] = [];
  const run = t.env.MINIPOD_RUN_DIR!;
  const lib = t.env.MINIPOD_LIB_DIR!;
  for (const p of [path.join(run, 'pods', pod), path.join(lib, 'pods', pod), path.join(run, 'network', 'pods', `${pod}.json`)]) {
    if (fs.existsSync(p)) out.push(`state: ${p}`);
  }
  for (const lease of ipamLeases(t)) if (lease.id === pod) out.push(`ipam lease: ${lease.file}`);
  try {
    const ports = fs.readFileSync(path.join(run, 'network', 'ports.json'), 'utf8');
    if (ports.includes(`"${pod}"`)) out.push(`port reservation of ${pod}`);
  } catch {
    // none
  }
  for (const pid of pidsInPodCgroup(t, pod)) out.push(`process in pod cgroup: ${pid} ${cmdline(pid)}`);
  return out;
}

function ipamLeases(t: TestEnv): { file: string; id: string }[] {
  const root = path.join(t.env.MINIPOD_LIB_DIR!, 'cni', 'networks');
  const out: { file: string; id: string }[] = [];
  for (const net of listDir(root)) {
    for (const n of listDir(path.join(root, net))) {
      if (n === 'lock' || n.startsWith('last_reserved_ip')) continue;
      const file = path.join(root, net, n);
      try {
        out.push({ file, id: fs.readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim() });
      } catch {
        // raced a release
      }
    }
  }
  return out;
}

/** Every state entry left under the run and lib dirs once no pod exists. */
function stateLeftovers(t: TestEnv): string[] {
  const run = t.env.MINIPOD_RUN_DIR!;
  const lib = t.env.MINIPOD_LIB_DIR!;
  const out: string[] = [];
  for (const p of listDir(path.join(run, 'pods'))) out.push(`state: ${path.join(run, 'pods', p)}`);
  for (const p of listDir(path.join(lib, 'pods'))) out.push(`state: ${path.join(lib, 'pods', p)}`);
  for (const p of listDir(path.join(run, 'network', 'pods'))) out.push(`state: ${path.join(run, 'network', 'pods', p)}`);
  for (const l of ipamLeases(t)) out.push(`ipam lease: ${l.file} (${l.id})`);
  for (const f of listDir(run)) if (f.includes('.tmp')) out.push(`temp file: ${path.join(run, f)}`);
  return out;
}

function ipForward(): string {
  return fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const skip = networkSkipReason();

describe.skipIf(skip !== '')(`chaos soak: ${CYCLES} cycles, seed ${SEED}`, () => {
  let t: TestEnv;
  let before: HostSnapshot;
  let forwardBefore: string;
  beforeAll(() => {
    t = makeTestEnv('soak');
    before = snapshotHost();
    forwardBefore = ipForward();
  });
  afterAll(() => t?.cleanup());

  it(
    'leaves nothing behind after kill -9 at random moments',
    async () => {
      const random = rng(SEED);
      const kills: Record<string, number> = {};
      const missed: Record<string, number> = {};
      const leaks: string[] = [];
      const started = Date.now();
      for (let i = 0; i < CYCLES; i++) {
        const pod = `soak-${i}`;
        const kind = KINDS[Math.floor(random() * KINDS.length)]!;
        const detached = random() < 0.3;
        const manifest = writeManifest(
          t,
          `${pod}.json`,
          busyboxPod(
            pod,
            [
              ['web', 'echo up; exec sleep 1000'],
              ['side', 'while :; do echo tick; sleep 0.2; done'],
            ],
            { spec: { terminationGracePeriodSeconds: 1 } },
          ),
        );
        // A published port on half the pods: portmap's chains and rules join the churn.
        if (random() < 0.5) {
          const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { spec: { containers: { ports?: object[] }[] } };
          m.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 18480 }];
          fs.writeFileSync(manifest, JSON.stringify(m));
        }
        const client = spawn(MINIPOD, detached ? ['run', '-d', manifest] : ['run', manifest], {
          env: t.env,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let clientErr = '';
        client.stderr!.on('data', (d: Buffer) => (clientErr = (clientErr + d.toString()).slice(-2000)));
        // The helper exists only for a moment: look early and often. The others: any moment of the start or the run.
        const delay = kind === 'helper' ? random() * 300 : random() * 2000;
        const deadline = Date.now() + delay + 4000;
        await sleep(delay);
        let killed = false;
        while (kind !== 'none' && Date.now() < deadline) {
          const pid = target(t, kind, pod, client);
          if (pid) {
            try {
              process.kill(pid, 'SIGKILL');
              killed = true;
            } catch {
              // gone in between: look again
            }
            if (killed) break;
          }
          await sleep(kind === 'helper' ? 2 : 20);
        }
        if (killed) kills[kind] = (kills[kind] ?? 0) + 1;
        else if (kind !== 'none') missed[kind] = (missed[kind] ?? 0) + 1;
        else kills.none = (kills.none ?? 0) + 1;
        await sleep(random() * 500);
        const rm = minipodSync(t, ['rm', '-f', pod], { timeoutMs: 60_000 });
        if (rm.code !== 0 && !/no such pod|not found|does not exist/i.test(rm.stderr))
          leaks.push(`cycle ${i} (${kind}): rm -f: ${rm.stderr.trim()}`);
        if (!(await waitExit(client, 30_000))) {
          const fds = listDir(`/proc/${client.pid}/fd`).map((fd) => {
            try {
              return fs.readlinkSync(`/proc/${client.pid}/fd/${fd}`);
            } catch {
              return '?';
            }
          });
          client.kill('SIGKILL');
          leaks.push(
            `cycle ${i} (${kind}): run ${detached ? '-d ' : ''}client did not exit after rm -f; fds ${fds.join(' ')}; stderr: ${clientErr.trim()}`,
          );
        }
        if (i % 5 === 4) minipodSync(t, ['gc'], { timeoutMs: 60_000 });
        let left = podLeftovers(t, pod);
        for (let n = 0; left.length > 0 && n < 20; n++) {
          await sleep(100);
          left = podLeftovers(t, pod);
        }
        leaks.push(...left.map((l) => `cycle ${i} (${kind}${killed ? '' : ', missed'}): ${l}`));
      }
      expect(minipodSync(t, ['gc'], { timeoutMs: 60_000 }).code).toBe(0);
      expect(minipodSync(t, ['daemon', 'stop'], { timeoutMs: 120_000 }).code).toBe(0);
      let hostLeaks = leaksSince(before);
      for (let n = 0; hostLeaks.length > 0 && n < 50; n++) {
        await sleep(100);
        hostLeaks = leaksSince(before);
      }
      leaks.push(...hostLeaks.map((l) => `after the soak: ${l}`), ...stateLeftovers(t).map((l) => `after the soak: ${l}`));
      if (ipForward() !== forwardBefore) leaks.push(`after the soak: net.ipv4.ip_forward is ${ipForward()}, was ${forwardBefore}`);

      // A new pod starts cleanly on what the soak left.
      const fresh = minipodSync(t, ['run', writeManifest(t, 'fresh.json', busyboxPod('fresh', [['c', 'echo fresh-ok']]))]);
      expect(fresh.stdout + fresh.stderr).toMatch(/fresh-ok/);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(minipodSync(t, ['daemon', 'stop'], { timeoutMs: 120_000 }).code).toBe(0);

      const summary = {
        seed: SEED,
        cycles: CYCLES,
        seconds: Math.round((Date.now() - started) / 1000),
        kills,
        missed,
        leaks: leaks.length,
      };
      process.stdout.write(`soak: ${JSON.stringify(summary)}\n`);
      if (process.env.SOAK_REPORT)
        fs.writeFileSync(process.env.SOAK_REPORT, `${JSON.stringify({ ...summary, leakList: leaks }, null, 2)}\n`);
      expect(leaks).toEqual([]);
    },
    60_000 + CYCLES * 30_000,
  );
});
