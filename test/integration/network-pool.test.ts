/**
 * The warm pool's sandbox attached to the default network ahead of need (src/network/pooled.ts):
 * after bridge pods, `daemon settle` boots a sandbox with eth0 and an address; the next bridge
 * pod takes that address without its own ADD; a pod of network none never takes it (the
 * sandbox is dropped, its DEL run); `daemon stop` and, after a kill -9, `gc` leave nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  busyboxPod,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  networkSkipReason,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

interface Rec {
  podId: string;
  podName: string;
  pooled?: boolean;
  result?: { ips?: { address: string }[] };
}

describe.skipIf(!isRoot || networkSkipReason() !== '')('the warm sandbox on the default network (root)', () => {
  let t: TestEnv;
  const podsDir = (): string => path.join(t.env.MINIPOD_RUN_DIR!, 'network', 'pods');
  const records = (): Rec[] => {
    try {
      return fs
        .readdirSync(podsDir())
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(fs.readFileSync(path.join(podsDir(), f), 'utf8')) as Rec);
    } catch {
      return [];
    }
  };
  const leases = (): string[] => {
    try {
      return fs.readdirSync(path.join(t.env.MINIPOD_LIB_DIR!, 'cni', 'networks', 'minipod')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    } catch {
      return [];
    }
  };
  const daemonPid = (): number | undefined => {
    try {
      return Number(fs.readFileSync(path.join(t.env.MINIPOD_RUN_DIR!, 'daemon.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const bridgePod = (): string =>
    writeManifest(
      t,
      'bridge.json',
      busyboxPod('pooled', [['c', 'echo "ip=$(ip -4 -o addr show eth0 | sed -E "s/.*inet ([0-9.]+).*/\\1/")"']]),
    );
  const settle = (): void => expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);

  beforeAll(() => {
    t = makeTestEnv('netpool');
  });
  afterAll(() => {
    if (!t) return;
    minipodSync(t, ['daemon', 'stop'], { timeoutMs: 60_000 });
    minipodSync(t, ['gc'], { timeoutMs: 60_000 });
    t.cleanup();
  });

  it('attaches the pooled sandbox after bridge pods, and the next one takes its address', async () => {
    const first = await minipod(t, ['run', bridgePod()]);
    expect(first.code, first.stderr).toBe(0);
    settle();
    const pooled = records();
    expect(pooled.map((r) => [r.podName, r.pooled])).toEqual([['warm-pool', true]]);
    const ip = pooled[0]!.result!.ips![0]!.address.split('/')[0];
    const r = await minipod(t, ['run', bridgePod()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ip=${ip}\n`);
  });

  it('never gives a pod of network none the attached sandbox', async () => {
    settle();
    expect(records().filter((r) => r.pooled)).toHaveLength(1);
    const none = busyboxPod('none', [['c', 'ip -o link | grep -c eth0 || true']], {
      metadata: { annotations: { 'minipod.io/network': 'none' } },
    });
    const r = await minipod(t, ['run', writeManifest(t, 'none.json', none)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/(^|\| )0$/); // no eth0 (the output may carry the container's name)
  });

  it('daemon stop leaves no attachment, lease or bridge', () => {
    settle();
    expect(minipodSync(t, ['daemon', 'stop'], { timeoutMs: 60_000 }).code).toBe(0);
    expect(records()).toEqual([]);
    expect(leases()).toEqual([]);
    expect(fs.existsSync('/sys/class/net/minipod0')).toBe(false);
  });

  it('after a kill -9 of the daemon, gc undoes the pooled attachment', async () => {
    expect((await minipod(t, ['run', bridgePod()])).code).toBe(0);
    settle();
    expect(records().filter((r) => r.pooled)).toHaveLength(1);
    const pid = daemonPid()!;
    process.kill(pid, 'SIGKILL');
    await waitFor('the daemon gone', () => !alive(pid));
    expect(minipodSync(t, ['gc'], { timeoutMs: 60_000 }).code).toBe(0);
    expect(records()).toEqual([]);
    expect(leases()).toEqual([]);
  }, 60_000);
});
