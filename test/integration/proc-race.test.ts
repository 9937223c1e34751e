/**
 * No route to host executables or descriptors (CVE-2019-5736, CVE-2024-21626), raced for real:
 * a hostile container process (test/support/proc-scanner.c, built static with gcc) scans /proc
 * in a tight loop while minipod starts, restarts and enters the pod's containers (`minipod
 * exec`, exec probes, postStart/preStop hooks). Every helper minipod spawns into the pod is a
 * Node process running the host's `node` until it execs; the scanner must never reach that
 * binary, the pod init's binary, or any host file or directory through /proc/PID/{exe,cwd,root,fd}.
 * The scanner's own siblings (busybox processes with the same user and capabilities) are the
 * control: it must reach those, or it proves nothing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
  REPO,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

const SCAN_SECONDS = 15;
const hasGcc = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** dev:ino of the host binaries a helper or the pod init runs before it becomes a container. */
function hostBinaries(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of [process.execPath, '/usr/bin/node', '/usr/bin/catatonit', '/usr/bin/tini', '/bin/sh', '/bin/bash']) {
    try {
      const st = fs.statSync(file);
      out.set(`${st.dev}:${st.ino}`, file);
    } catch {
      // Not installed here.
    }
  }
  return out;
}

/**
 * st_dev of every filesystem mounted on the host (glibc's makedev of mountinfo's major:minor).
 * A container's own root, /proc and /dev are mounts of its private namespace and are not here.
 */
function hostDevices(): Set<string> {
  const devs = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const m = /^\d+ \d+ (\d+):(\d+) /.exec(line);
    if (!m) continue;
    const [major, minor] = [BigInt(m[1]!), BigInt(m[2]!)];
    const dev = ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
    devs.add(String(dev));
  }
  return devs;
}

interface Reach {
  pid: number;
  what: string;
  devIno: string;
  foreign: boolean;
  writable: boolean;
  link: string;
  line: string;
}

function parseReaches(log: string): Reach[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('REACH '))
    .map((line) => {
      const [, pid, what, devIno, , foreign, writable, ...link] = line.split(' ');
      return {
        pid: Number(pid),
        what: what!,
        devIno: devIno!,
        foreign: foreign === '1',
        writable: writable === '1',
        link: link.join(' '),
        line,
      };
    });
}

describe.skipIf(!isRoot || !hasGcc)('no route to host executables through /proc (root)', () => {
  let t: TestEnv;
  let binDir: string;

  beforeAll(() => {
    t = makeTestEnv('procrace');
    binDir = path.join(t.dir, 'bin');
    fs.mkdirSync(binDir);
    execFileSync('gcc', ['-static', '-O2', '-o', path.join(binDir, 'scanner'), path.join(REPO, 'test/support/proc-scanner.c')]);
  });

  afterAll(() => {
    if (t) minipodSync(t, ['rm', '-f', 'race']);
    t?.cleanup();
  });

  it('never lets a container process reach a host binary or file while helpers start, restart, exec, probe and hook', async () => {
    // The scanner keeps a CPU busy: a generous timeout keeps `steady` from failing on a slow exec.
    const execProbe = (command: string[]) => ({ exec: { command }, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 10 });
    const victim = (name: string, script: string, liveness: string[]) => ({
      name,
      image: BUSYBOX_ROOTFS,
      command: ['sh', '-c', script],
      livenessProbe: execProbe(liveness),
      readinessProbe: execProbe(['true']),
      lifecycle: { postStart: { exec: { command: ['true'] } }, preStop: { exec: { command: ['true'] } } },
    });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'race' },
      spec: {
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: 'scan', hostPath: { path: binDir, type: 'Directory' } }],
        containers: [
          {
            name: 'scanner',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', `/scan/scanner ${SCAN_SECONDS}; exec sleep 3600`],
            volumeMounts: [{ name: 'scan', mountPath: '/scan', readOnly: true }],
          },
          // Exits after a second: restarted (after the back-off) by the Always policy.
          victim('quitter', 'sleep 1; exit 1', ['true']),
          // Its liveness probe fails: killed and restarted.
          victim('unhealthy', 'exec sleep 3600', ['false']),
          victim('steady', 'exec sleep 3600', ['true']),
        ],
      },
    };
    const up = await minipod(t, ['run', '-d', writeManifest(t, 'race.json', pod)]);
    expect(up.code, up.stderr).toBe(0);

    // Enter the pod over and over while the scanner runs: each exec is a fresh helper.
    const deadline = Date.now() + SCAN_SECONDS * 1000;
    let execs = 0;
    while (Date.now() < deadline) {
      const r = await minipod(t, ['exec', 'race', execs % 2 ? 'steady' : 'scanner', '--', 'true'], { timeoutMs: 20_000 });
      // A victim may be between two runs; the scanner is always there.
      if (r.code !== 0 && /is not running/.test(r.stderr)) continue;
      expect(r.code, r.stderr).toBe(0);
      execs++;
    }
    const log = await waitFor(
      'the scanner to finish',
      () => {
        const l = minipodSync(t, ['logs', 'race', 'scanner']).stdout;
        return /^DONE /m.test(l) && l;
      },
      30_000,
      250,
    );
    const state = JSON.parse(minipodSync(t, ['inspect', 'race']).stdout) as { containers: { name: string; restartCount: number }[] };
    minipodSync(t, ['rm', '-f', 'race']);

    const done = /^DONE scans=(\d+) pids=(\d+) denied=(\d+)/m.exec(log)!;
    const [scans, pids] = [Number(done[1]), Number(done[2])];
    const reaches = parseReaches(log);
    const hostBins = hostBinaries();
    // Foreign to the scanner's root and on a host filesystem: a host file or directory. (A
    // sibling container's root or files are foreign too, but live on its own overlay.)
    const hostDevs = hostDevices();
    const bad = reaches.filter((r) => hostBins.has(r.devIno) || (r.foreign && hostDevs.has(r.devIno.split(':')[0]!)));
    const restarts = state.containers.reduce((n, c) => n + c.restartCount, 0);
    const summary = `scans=${scans} pids=${pids} execs=${execs} restarts=${restarts} reached=${reaches.length}`;
    expect(
      bad.map((r) => `${r.line}${hostBins.has(r.devIno) ? ` (host ${hostBins.get(r.devIno)})` : ''}`),
      summary,
    ).toEqual([]);
    expect(
      reaches.filter((r) => r.writable && r.what === 'exe'),
      summary,
    ).toEqual([]);
    // The scanner was really racing: it saw the helpers come and go, and reached its siblings.
    expect(scans, summary).toBeGreaterThan(100);
    expect(execs, summary).toBeGreaterThan(5);
    expect(pids, summary).toBeGreaterThan(execs);
    expect(restarts, summary).toBeGreaterThan(0);
    expect(
      reaches.some((r) => r.what === 'exe' && r.link === '/bin/busybox' && !r.foreign),
      summary,
    ).toBe(true);
  }, 90_000);
});
