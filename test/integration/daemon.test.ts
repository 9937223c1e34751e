/**
 * The daemon that supervises every pod (root only): started on demand, once even when clients
 * race, never for a manifest that does not parse; its warm pool; a pod owned by an attached
 * client that dies; refusing a client with other settings; exit when idle, taking the host
 * network down with it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
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
    expect(status(t).warm).toEqual({ sandboxes: 1, helpers: 4 });
    const r = await minipod(t, ['run', writeManifest(t, 'warm.json', busyboxPod('warm', [['c', 'echo warm-ok']], noNetwork))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('warm-ok');
    expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);
    expect(status(t).warm).toEqual({ sandboxes: 1, helpers: 4 });
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
    expect(r.stderr).toMatch(/minipod-trace: [\d.]+ms container c exec'd/);
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
