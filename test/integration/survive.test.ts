/**
 * Pods that outlive their daemon (root, issue #18): with conmon holding each container, a
 * daemon killed with SIGKILL loses nothing (the container keeps running and printing, gets no
 * SIGPIPE, its later output is in `minipod logs`), the next command's daemon adopts the pod
 * (`ps` Running, `exec` and `rm` work), an exit while no daemon ran is read at adoption, and
 * `minipod daemon restart` hands a running pod to a new daemon without touching it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, busyboxPod, inspect, isRoot, makeTestEnv, minipodSync, waitFor, writeManifest, type TestEnv } from '../support/minipod.js';

const noNetwork = { metadata: { annotations: { 'minipod.io/network': 'none' } } };
const hasConmon = fs.existsSync('/usr/bin/conmon');

function daemonPid(t: TestEnv): number {
  return Number(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'daemon.pid'), 'utf8').trim());
}

/** The state file as it is, without the adoption a minipod command would trigger. */
function rawState(t: TestEnv, pod: string): { containers: { pid?: number; held?: { conmon: { pid: number } } }[] } {
  return JSON.parse(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', pod, 'state.json'), 'utf8')) as ReturnType<typeof rawState>;
}

function logLines(t: TestEnv, pod: string): string[] {
  return minipodSync(t, ['logs', pod]).stdout.split('\n').filter(Boolean);
}

describe.skipIf(!isRoot || !hasConmon)('pods that outlive their daemon (root, conmon)', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('survive');
    t.env.MINIPOD_CONTAINER_MONITOR = 'conmon';
  });
  afterAll(() => t?.cleanup());

  it('keeps a printing container running through kill -9 of the daemon; the next command adopts the pod', async () => {
    const file = writeManifest(
      t,
      'printer.json',
      busyboxPod('printer', [['c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']], noNetwork),
    );
    expect(minipodSync(t, ['run', '-d', file]).code).toBe(0);
    const before = inspect(t, 'printer')!;
    const pid = before.containers[0]!.pid!;
    const conmon = rawState(t, 'printer').containers[0]!.held!.conmon.pid;
    await waitFor('a first line', () => logLines(t, 'printer').length > 0);

    const killed = daemonPid(t);
    process.kill(killed, 'SIGKILL');
    await waitFor('the daemon gone', () => !alive(killed));
    // Lines go on being written by the container and logged by conmon with no daemon at all.
    const logFile = path.join(t.env.MINIPOD_LOG_DIR!, 'printer', 'c.log');
    const size = fs.statSync(logFile).size;
    await new Promise((r) => setTimeout(r, 1500));
    expect(alive(pid)).toBe(true);
    expect(alive(conmon)).toBe(true);
    expect(fs.statSync(logFile).size).toBeGreaterThan(size);
    // No signal is pending or was delivered: a SIGPIPE would have killed sh.
    expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^SigPnd:\s+0+$/m);

    // Any pod verb starts a daemon, which adopts the pod.
    const ps = minipodSync(t, ['ps']);
    expect(ps.stdout).toMatch(/printer\s+Running/);
    const after = inspect(t, 'printer')!;
    expect(after.supervisor.pid).not.toBe(killed);
    expect(after.supervisor.pid).toBe(daemonPid(t));
    expect(after.containers[0]).toMatchObject({ state: 'running', pid });
    const lines = logLines(t, 'printer');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l, i) => l === `line ${i}`)).toBe(true);

    const exec = minipodSync(t, ['exec', 'printer', 'c', '--', 'sh', '-c', 'echo hello from $$']);
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toMatch(/^hello from \d+/);

    expect(minipodSync(t, ['rm', '-f', 'printer']).code).toBe(0);
    await waitFor('the container and its conmon gone', () => !alive(pid) && !alive(conmon));
    expect(inspect(t, 'printer')).toBeUndefined();
    expect(fs.readdirSync(path.join(t.env.MINIPOD_RUN_DIR!, 'oci'))).toEqual([]);
  });

  it('records an exit that happened while no daemon ran', async () => {
    const file = writeManifest(
      t,
      'short.json',
      busyboxPod('short', [['c', 'sleep 1; exit 7']], { ...noNetwork, spec: { restartPolicy: 'Never' } }),
    );
    expect(minipodSync(t, ['run', '-d', file]).code).toBe(0);
    const pid = rawState(t, 'short').containers[0]!.pid!;
    const killed = daemonPid(t);
    process.kill(killed, 'SIGKILL');
    await waitFor('the container to exit on its own', () => !alive(pid), 10_000);
    const after = inspect(t, 'short')!;
    expect(after.containers[0]).toMatchObject({ state: 'terminated', exitCode: 7, reason: 'Error' });
    await waitFor('the pod to end', () => inspect(t, 'short')?.phase === 'Failed');
    expect(minipodSync(t, ['rm', 'short']).code).toBe(0);
  });

  it('hands a running pod to a new daemon with `daemon restart`, keeping its container', async () => {
    const file = writeManifest(t, 'kept.json', busyboxPod('kept', [['c', 'exec sleep 1000']], noNetwork));
    expect(minipodSync(t, ['run', '-d', file]).code).toBe(0);
    const pid = inspect(t, 'kept')!.containers[0]!.pid!;
    const old = daemonPid(t);
    const r = minipodSync(t, ['daemon', 'restart']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/minipod daemon restarted \(pid \d+\); pods: kept/);
    expect(alive(old)).toBe(false);
    const after = inspect(t, 'kept')!;
    expect(after.phase).toBe('Running');
    expect(after.supervisor.pid).toBe(daemonPid(t));
    expect(after.containers[0]).toMatchObject({ state: 'running', pid });
    expect(alive(pid)).toBe(true);
    // The adopted pod stops as any other.
    expect(minipodSync(t, ['stop', 'kept']).code).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(minipodSync(t, ['rm', 'kept']).code).toBe(0);
  });
});
