/**
 * The pod's CNI DEL runs after the daemon answered (src/pod/network-teardown.ts): with a
 * firewall plugin that takes 2 s on DEL, an attached run returns while its DEL is pending; a
 * pod of the same name starts meanwhile (its network has its own CNI ID); `daemon settle`,
 * `daemon stop` wait for pending DELs; after a kill -9 of the daemon the next one's gc undoes
 * the network whose DEL was pending.
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

const SLOW_DEL_MS = 2000;

describe.skipIf(!isRoot || networkSkipReason() !== '')('CNI DEL after the answer (root)', () => {
  let t: TestEnv;
  let manifest: string;
  const podsDir = (): string => path.join(t.env.MINIPOD_RUN_DIR!, 'network', 'pods');
  const records = (): { podId: string; podName: string; phase: string }[] => {
    try {
      return fs
        .readdirSync(podsDir())
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(fs.readFileSync(path.join(podsDir(), f), 'utf8')) as { podId: string; podName: string; phase: string });
    } catch {
      return [];
    }
  };
  const leases = (): string[] => {
    const dir = path.join(t.env.MINIPOD_LIB_DIR!, 'cni', 'networks', 'minipod');
    try {
      return fs.readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
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
  const run = async (): Promise<number> => {
    const started = Date.now();
    const r = await minipod(t, ['run', manifest]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('net-ok');
    return Date.now() - started;
  };

  beforeAll(() => {
    t = makeTestEnv('netdel');
    // The real plugins, with a firewall plugin whose DEL takes SLOW_DEL_MS.
    const plugins = path.join(t.dir, 'cni-bin');
    fs.mkdirSync(plugins);
    for (const p of fs.readdirSync('/usr/lib/cni')) {
      if (p !== 'firewall') fs.symlinkSync(path.join('/usr/lib/cni', p), path.join(plugins, p));
    }
    const slow = `#!/bin/sh\n[ "$CNI_COMMAND" = DEL ] && sleep ${SLOW_DEL_MS / 1000}\nexec /usr/lib/cni/firewall\n`;
    fs.writeFileSync(path.join(plugins, 'firewall'), slow, { mode: 0o755 });
    t.env.MINIPOD_CNI_PATH = plugins;
    manifest = writeManifest(t, 'same.json', busyboxPod('same', [['c', 'ip -4 addr show eth0 | grep -q 10.89. && echo net-ok']]));
  });
  afterAll(() => {
    if (!t) return;
    // A test that failed half-way may leave a record no daemon finishes: gc undoes it.
    minipodSync(t, ['daemon', 'stop'], { timeoutMs: 60_000 });
    minipodSync(t, ['gc'], { timeoutMs: 60_000 });
    t.cleanup();
  });

  it('answers before the DEL, and a pod of the same name starts while it is pending', async () => {
    await run();
    // The answer came while the DEL sleeps in the firewall plugin: the record is still there.
    const first = records();
    expect(first.map((r) => [r.podName, r.phase])).toEqual([['same', 'deleting']]);
    const ms = await run();
    expect(ms).toBeLessThan(SLOW_DEL_MS * 2);
    // Each instance its own CNI ID (its uid), never the name the two share.
    const ids = new Set([...first, ...records()].map((r) => r.podId));
    expect(ids.has('same')).toBe(false);
    expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);
    expect(records()).toEqual([]);
    expect(leases()).toEqual([]);
  });

  it('daemon stop waits for the pending DEL and takes the host network down', async () => {
    await run();
    expect(records()).toHaveLength(1);
    expect(minipodSync(t, ['daemon', 'stop'], { timeoutMs: 60_000 }).code).toBe(0);
    expect(records()).toEqual([]);
    expect(leases()).toEqual([]);
    expect(fs.existsSync('/sys/class/net/minipod0')).toBe(false);
  });

  it('after a kill -9 of the daemon with a DEL pending, the next daemon undoes that network', async () => {
    await run();
    const pid = daemonPid()!;
    expect(records()).toHaveLength(1);
    // The daemon and the plugin processes it runs (the sleeping firewall DEL).
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    process.kill(pid, 'SIGKILL');
    for (const c of children) {
      try {
        process.kill(c, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await waitFor('the daemon gone', () => !alive(pid));
    expect(records()).toHaveLength(1); // recorded until its DEL is done
    // The next daemon's gc (at its start) undoes it; this pod's own DEL is then settled.
    await run();
    expect(minipodSync(t, ['daemon', 'settle']).code).toBe(0);
    expect(records()).toEqual([]);
    expect(leases()).toEqual([]);
    expect(minipodSync(t, ['daemon', 'stop'], { timeoutMs: 60_000 }).code).toBe(0);
  }, 60_000);
});
