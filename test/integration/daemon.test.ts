/**
 * The daemon that supervises every pod (root only): started on demand, once even when clients
 * race, never for a manifest that does not parse; its warm pool; a pod owned by an attached
 * client that dies; an attached client whose daemon dies; refusing a client with other
 * settings; exit when idle, taking the host network down with it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
  CONTAINER_MONITOR,
  MINIPOD,
  alive,
  busyboxPod,
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

function daemonPid(t: TestEnv): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'daemon.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

function status(t: TestEnv): { running: boolean; pid?: number; pods?: string[]; warm?: { sandboxes: number; helpers: number } } {
  return JSON.parse(minipodSync(t, ['daemon', 'status', '--format', 'json']).stdout) as ReturnType<typeof status>;
}

const noNetwork = { metadata: { annotations: { 'minipod.io/network': 'none' } } };

/**
 * A full warm pool after one-container pods: one booted sandbox sized to them (pool-policy.ts,
 * sandboxSize) with its helpers (the pod init's and one container's; under conmon, a pooled
 * conmon instead, with its `minipod-oci create` and helper: conmon-pool.test.ts), and the trace
 * step of a container's start in each mode.
 */
const FULL_POOL =
  CONTAINER_MONITOR === 'conmon' && process.env.MINIPOD_CONMON_POOL !== '0'
    ? { sandboxes: 1, helpers: 3, conmons: 1 }
    : CONTAINER_MONITOR === 'conmon'
      ? { sandboxes: 1, helpers: 1 }
      : { sandboxes: 1, helpers: 2 };
const CONTAINER_STARTED = CONTAINER_MONITOR === 'conmon' ? 'started' : "exec'd";

describe.skipIf(!isRoot)('the minipod daemon (root)', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('daemon');
  });
  afterAll(() => t?.cleanup());

  it('does not start for a manifest that does not parse', () => {
    const r = minipodSync(t, [
      'run',
      writeManifest(t, 'bad.yaml', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'bad' },
        spec: { containers: [{ name: 'a', image: BUSYBOX_ROOTFS, foo: 1 }] },
      }),
    ]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/spec\.containers\[0\]\.foo/);
    expect(status(t).running).toBe(false);
    expect(daemonPid(t)).toBeUndefined();
  });

  it('starts once when clients race, and supervises all their pods', async () => {
    const runs = await Promise.all(
      ['race-a', 'race-b', 'race-c'].map((name) =>
        minipod(t, ['run', '-d', writeManifest(t, `${name}.json`, busyboxPod(name, [['c', 'sleep 1000']], noNetwork))]),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const s = status(t);
    expect(s.running).toBe(true);
    expect(s.pods?.sort()).toEqual(['race-a', 'race-b', 'race-c']);
    const supervisors = new Set(['race-a', 'race-b', 'race-c'].map((n) => inspect(t, n)!.supervisor.pid));
    expect([...supervisors]).toEqual([s.pid]);
    expect(minipodSync(t, ['rm', '-f', 'race-a', 'race-b', 'race-c']).code).toBe(0);
  });

  it('gives a pod a booted sandbox from its pool and boots another', async () => {
    expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);
    expect(status(t).warm).toEqual(FULL_POOL);
    const r = await minipod(t, ['run', writeManifest(t, 'warm.json', busyboxPod('warm', [['c', 'echo warm-ok']], noNetwork))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('warm-ok');
    expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);
    expect(status(t).warm).toEqual(FULL_POOL);
  });

  it('refills its pool after a pod by itself (pool-policy.ts: after pods come, not before)', async () => {
    const r = await minipod(t, ['run', writeManifest(t, 'refill.json', busyboxPod('refill', [['c', 'true']], noNetwork))]);
    expect(r.code, r.stderr).toBe(0);
    // No settle: the policy boots a sandbox once pods stopped coming for a moment.
    await waitFor('the pool refilled', () => status(t).warm?.sandboxes === 1, 10_000);
  });

  it('shows the warm sandbox in the trace of a start', () => {
    expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);
    const file = writeManifest(t, 'traced.json', busyboxPod('traced', [['c', 'true']], noNetwork));
    const r = minipodSync({ ...t, env: { ...t.env, MINIPOD_TRACE: '1' } }, ['run', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/minipod-trace: [\d.]+ms warm sandbox claimed/);
    expect(r.stderr).toMatch(new RegExp(`minipod-trace: [\\d.]+ms container c ${CONTAINER_STARTED}`));
  });

  it('stops and removes a pod whose attached client was killed', async () => {
    const file = writeManifest(t, 'owned.json', busyboxPod('owned', [['c', 'sleep 1000']], noNetwork));
    const client = spawn(MINIPOD, ['run', file], { env: t.env, stdio: 'ignore' });
    const running = await waitFor(
      'pod owned running',
      () => inspect(t, 'owned')?.containers[0]?.state === 'running' && inspect(t, 'owned'),
    );
    const pid = running.containers[0]!.pid!;
    client.kill('SIGKILL');
    await waitFor('container gone', () => !alive(pid));
    await waitFor('pod removed', () => inspect(t, 'owned') === undefined);
    expect(status(t).pods).toEqual([]);
  });

  it('refuses a client with other directories for the same run dir', () => {
    const other = { ...t, env: { ...t.env, MINIPOD_LIB_DIR: path.join(t.dir, 'other-lib') } };
    const r = minipodSync(other, ['run', writeManifest(t, 'other.json', busyboxPod('other', [['c', 'true']], noNetwork))]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/runs with other directories or cgroup parent.*minipod daemon stop/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // What the refusal advises works whatever the client's settings.
    expect(JSON.parse(minipodSync(other, ['daemon', 'status', '--format', 'json']).stdout)).toMatchObject({ running: true });
  });

  it('stops its pods and everything it holds with `daemon stop`', async () => {
    const r = await minipod(t, ['run', '-d', writeManifest(t, 'last.json', busyboxPod('last', [['c', 'sleep 1000']], noNetwork))]);
    expect(r.code, r.stderr).toBe(0);
    const pid = daemonPid(t)!;
    const init = inspect(t, 'last')!.init!.pid;
    expect(minipodSync(t, ['daemon', 'stop']).stdout).toContain('stopped');
    expect(alive(pid)).toBe(false);
    expect(alive(init)).toBe(false);
    expect(inspect(t, 'last')?.phase).toBe('Stopped');
    expect(minipodSync(t, ['rm', 'last']).code).toBe(0);
    expect(fs.existsSync(path.join(t.env.MINIPOD_RUN_DIR!, 'daemon.sock'))).toBe(false);
  });

  // Last: they kill daemons, and the tests above expect the one they share to run.
  it('ends an attached run whose daemon is killed, saying what became of its pod', async () => {
    const file = writeManifest(t, 'gone.json', busyboxPod('gone', [['c', 'while :; do echo tick; sleep 0.2; done']], noNetwork));
    const client = spawn(MINIPOD, ['run', file], { env: t.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    client.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    client.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => client.on('exit', (code) => resolve(code)));
    await waitFor('the pod printing through its client', () => stdout.includes('tick'));
    const pid = inspect(t, 'gone')!.containers[0]!.pid!;
    const killed = daemonPid(t)!;
    process.kill(killed, 'SIGKILL');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
    if (code === 'hung') client.kill('SIGKILL');
    expect(code, stderr).toBe(125);
    expect(stderr).toMatch(/^minipod: the minipod daemon is gone \(killed or crashed\); pod gone /m);
    if (CONTAINER_MONITOR === 'conmon') {
      // conmon holds the container: the pod goes on, detached, and the next command adopts it.
      expect(stderr).toMatch(/pod gone goes on, detached/);
      expect(minipodSync(t, ['ps']).stdout).toMatch(/^gone\s+Running/m);
      expect(inspect(t, 'gone')!.containers[0]).toMatchObject({ state: 'running', pid });
    } else {
      expect(stderr).toMatch(/pod gone cannot go on without it \(the daemon held its containers\)/);
    }
    expect(minipodSync(t, ['rm', '-f', 'gone']).code).toBe(0);
    await waitFor('the container gone', () => !alive(pid));
  });

  it('ends an attached run whose daemon is killed at any moment of the start', async () => {
    // The soak once saw an attached client outlive its killed daemon: kill at spread moments
    // the daemon that this client starts (none runs before it).
    for (const [i, delayMs] of [0, 100, 250, 500, 800, 1200].entries()) {
      expect(minipodSync(t, ['daemon', 'stop'], { timeoutMs: 120_000 }).code).toBe(0);
      const name = `early-${i}`;
      const file = writeManifest(t, `${name}.json`, busyboxPod(name, [['c', 'echo up; exec sleep 1000']], noNetwork));
      const client = spawn(MINIPOD, ['run', file], { env: t.env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      client.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => client.on('exit', (code) => resolve(code)));
      await new Promise((r) => setTimeout(r, delayMs));
      const killed = await waitFor('a daemon', () => ((p) => p !== undefined && alive(p) && p)(daemonPid(t)), 20_000, 5);
      process.kill(killed, 'SIGKILL');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
      let fds = '';
      if (code === 'hung') {
        fds = fs
          .readdirSync(`/proc/${client.pid}/fd`)
          .map((fd) => {
            try {
              return fs.readlinkSync(`/proc/${client.pid}/fd/${fd}`);
            } catch {
              return '?';
            }
          })
          .join(' ');
        client.kill('SIGKILL');
      }
      expect(code, `kill after ${delayMs} ms: fds ${fds}; stderr: ${stderr}`).not.toBe('hung');
      expect(code, stderr).not.toBe(0);
      expect(stderr).toMatch(/^minipod: /m);
      const rm = minipodSync(t, ['rm', '-f', name]);
      expect(rm.code === 0 || /does not exist/.test(rm.stderr), rm.stderr).toBe(true);
    }
  }, 180_000);
});

describe.skipIf(!isRoot || networkSkipReason() !== '')('the minipod daemon and the host network (root)', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('daemon-net');
    t.env.MINIPOD_DAEMON_IDLE = '1';
  });
  afterAll(() => t?.cleanup());

  it('keeps the bridge while it runs and takes it down when it exits idle', async () => {
    const r = await minipod(t, [
      'run',
      writeManifest(t, 'net.json', busyboxPod('net', [['c', 'ip -4 addr show eth0 | grep -q 10.89. && echo net-ok']])),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('net-ok');
    const pid = daemonPid(t)!;
    expect(fs.existsSync('/sys/class/net/minipod0')).toBe(true);
    await waitFor('daemon exits when idle', () => !alive(pid), 15_000);
    expect(fs.existsSync('/sys/class/net/minipod0')).toBe(false);
  });
});
