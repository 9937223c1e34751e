/**
 * The conmon pool (root, conmon mode; docs/architecture.md, "Containers that outlive the
 * daemon"): a warm sandbox comes with conmons already running `minipod-oci create` and waiting
 * for their config; a pod's container is started by one of them (its conmon was running before
 * the `run`), and nothing of the pool is left after a drain, or after a kill -9 of the daemon
 * followed by `minipod gc` and `daemon stop`. A sandbox has as many conmons as the recent pods
 * had containers (1 until a bigger pod comes; src/daemon/pool-policy.ts, sandboxSize).
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

const poolDir = (t: TestEnv): string => path.join(t.env.MINIPOD_RUN_DIR!, 'conmon-pool');
const poolLogDir = (t: TestEnv): string => path.join(t.env.MINIPOD_LOG_DIR!, '.conmon-pool');
const list = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

/** The pool's entries: id -> conmon pid. */
function pooledConmons(t: TestEnv): Map<string, number> {
  return new Map(
    list(poolDir(t))
      .filter((id) => !fs.existsSync(path.join(poolDir(t), id, 'pod')))
      .map((id) => [id, Number(fs.readFileSync(path.join(poolDir(t), id, 'conmon.pid'), 'utf8').trim())]),
  );
}

function warm(t: TestEnv): { sandboxes: number; helpers: number; conmons?: number } {
  expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);
  const s = JSON.parse(minipodSync(t, ['daemon', 'status', '--format', 'json']).stdout) as { warm: ReturnType<typeof warm> };
  return s.warm;
}

describe.skipIf(!isRoot || !hasConmon)('the conmon pool (root, conmon)', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('conmon-pool');
    t.env.MINIPOD_CONTAINER_MONITOR = 'conmon';
  });
  afterAll(() => t?.cleanup());

  it("starts a pod's container with a conmon that ran before the run, and leaves nothing of it after rm", async () => {
    // restart starts one when none runs; settle waits for its pool.
    expect(minipodSync(t, ['daemon', 'restart']).code).toBe(0);
    // No pod yet: a sandbox for a one-container pod (one conmon, its create and helper).
    expect(warm(t)).toEqual({ sandboxes: 1, helpers: 3, conmons: 1 });
    const before = pooledConmons(t);
    expect(before.size).toBe(1);
    for (const pid of before.values()) expect(alive(pid)).toBe(true);

    const file = writeManifest(t, 'pooled.json', busyboxPod('pooled', [['c', 'echo pooled-ok; exec sleep 1000']], noNetwork));
    const r = minipodSync(t, ['run', '-d', file]);
    expect(r.code, r.stderr).toBe(0);
    const state = JSON.parse(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', 'pooled', 'state.json'), 'utf8')) as {
      containers: { held: { id: string; conmon: { pid: number }; bundle: string } }[];
    };
    const held = state.containers[0]!.held;
    expect(before.get(held.id)).toBe(held.conmon.pid);
    expect(held.bundle).toBe(path.join(poolDir(t), held.id));
    await waitFor('its output in its log', () => minipodSync(t, ['logs', 'pooled']).stdout.includes('pooled-ok'));
    // The pool's log file was renamed to the container's.
    expect(list(poolLogDir(t))).not.toContain(`${held.id}.log`);

    // exec reaches it; rm removes the entry's bundle and the runtime's state.
    expect(minipodSync(t, ['exec', 'pooled', 'c', '--', 'true']).code).toBe(0);
    expect(minipodSync(t, ['rm', '-f', 'pooled']).code).toBe(0);
    await waitFor('its conmon gone', () => !alive(held.conmon.pid));
    expect(list(poolDir(t))).not.toContain(held.id);
    expect(list(path.join(t.env.MINIPOD_RUN_DIR!, 'oci'))).not.toContain(held.id);
  });

  it('starts the containers beyond its sandbox with fresh conmons, and sizes the next sandbox to that pod', async () => {
    expect(warm(t)).toEqual({ sandboxes: 1, helpers: 3, conmons: 1 });
    const before = pooledConmons(t);
    const names = ['a', 'b', 'c'];
    const file = writeManifest(
      t,
      'three.json',
      busyboxPod(
        'three',
        names.map((n) => [n, `echo three-${n}-ok; exec sleep 1000`]),
        noNetwork,
      ),
    );
    const r = minipodSync(t, ['run', '-d', file]);
    expect(r.code, r.stderr).toBe(0);
    const state = JSON.parse(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', 'three', 'state.json'), 'utf8')) as {
      containers: { held: { id: string; bundle: string } }[];
    };
    const pooled = state.containers.filter((c) => before.has(c.held.id));
    expect(pooled).toHaveLength(1);
    expect(state.containers.filter((c) => path.dirname(c.held.bundle) === poolDir(t))).toHaveLength(1);
    await waitFor('every container ran', () => names.every((n) => minipodSync(t, ['logs', 'three', n]).stdout.includes(`three-${n}-ok`)));
    // The next sandbox is made for three containers.
    expect(warm(t)).toEqual({ sandboxes: 1, helpers: 7, conmons: 3 });
    expect(minipodSync(t, ['rm', '-f', 'three']).code).toBe(0);
  });

  it('leaves nothing of a filled pool after kill -9 of the daemon, gc and daemon stop', async () => {
    expect(warm(t).conmons).toBe(3);
    const entries = pooledConmons(t);
    const killed = daemonPid(t);
    process.kill(killed, 'SIGKILL');
    await waitFor('the daemon gone', () => !alive(killed));
    // Each entry's create notices its daemon is gone and fails; conmon reports and exits.
    await waitFor('the orphaned conmons gone by themselves', () => [...entries.values()].every((pid) => !alive(pid)), 15_000);
    const gc = minipodSync(t, ['gc']);
    expect(gc.code, gc.stderr).toBe(0);
    for (const id of entries.keys()) {
      expect(list(poolDir(t))).not.toContain(id);
      expect(list(poolLogDir(t))).not.toContain(`${id}.log`);
      expect(list(path.join(t.env.MINIPOD_RUN_DIR!, 'oci'))).not.toContain(id);
    }
    // A daemon started meanwhile drains its own pool when it stops.
    expect(minipodSync(t, ['daemon', 'stop']).code).toBe(0);
    expect(list(poolDir(t))).toEqual([]);
    expect(list(poolLogDir(t))).toEqual([]);
    expect(list(path.join(t.env.MINIPOD_RUN_DIR!, 'oci'))).toEqual([]);
    expect(list(path.join(t.env.MINIPOD_RUN_DIR!, 'attach'))).toEqual([]);
    expect(inspect(t, 'pooled')).toBeUndefined();
  });
});
