/**
 * Issue 5, for real: detached pods, logs, stop/rm, kill, restart policies with back-off, init
 * containers, and recovery after the supervisor is killed with SIGKILL (torn down when the
 * daemon held the containers, adopted when conmon holds them; both are tested whatever the default).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSYBOX_ROOTFS,
  alive,
  busyboxPod,
  inspect,
  isRoot,
  makeTestEnv,
  minipod,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

describe.skipIf(!isRoot)('pod lifecycle (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('life')));
  afterEach(() => {
    // Whatever a failed test left running goes before the next one.
    for (const name of fs.existsSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods'))
      ? fs.readdirSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods'))
      : []) {
      minipodSync(t, ['rm', '-f', name]);
    }
  });
  afterAll(() => t?.cleanup());

  /** A test with the containers held as given, whatever the suite's default, in its own daemon. */
  async function inMode(monitor: 'daemon' | 'conmon', test: (e: TestEnv) => Promise<void>): Promise<void> {
    const e = makeTestEnv(`life-${monitor}`);
    e.env.MINIPOD_CONTAINER_MONITOR = monitor;
    try {
      await test(e);
    } finally {
      const pods = path.join(e.env.MINIPOD_RUN_DIR!, 'pods');
      for (const name of fs.existsSync(pods) ? fs.readdirSync(pods) : []) minipodSync(e, ['rm', '-f', name]);
      e.cleanup();
    }
  }

  it('run -d returns once containers run; ps, logs, stop, ps -a and rm work', async () => {
    const pod = busyboxPod('det', [
      ['ticker', 'trap "echo bye; exit 0" TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'],
      ['idle', 'exec sleep 1000'],
    ]);
    const started = minipodSync(t, ['run', '-d', writeManifest(t, 'det.json', pod)]);
    expect(started.code).toBe(0);
    expect(started.stdout.trim()).toBe('det');
    const ps = minipodSync(t, ['ps']);
    expect(ps.stdout).toMatch(/^det\s+Running\s+2\/2\s+0\s/m);
    await waitFor('three ticks', () => minipodSync(t, ['logs', 'det', 'ticker']).stdout.includes('tick 3'));
    const tail = minipodSync(t, ['logs', '--tail', '1', '-t', 'det', 'ticker']);
    expect(tail.stdout.trim().split('\n')).toHaveLength(1);
    expect(tail.stdout.trim()).toMatch(/^\d{4}-\d\d-\d\dT\S+Z tick \d+$/);

    const follow = minipod(t, ['logs', '-f', 'det', 'ticker']);
    await new Promise((r) => setTimeout(r, 500));
    const stop = minipodSync(t, ['stop', '-t', '2', 'det']);
    expect(stop.code).toBe(0);
    const followed = await follow;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/bye/);

    expect(minipodSync(t, ['ps']).stdout).not.toMatch(/^det/m);
    expect(minipodSync(t, ['ps', '-a']).stdout).toMatch(/^det\s+Stopped/m);
    const state = inspect(t, 'det')!;
    expect(state.containers.find((c) => c.name === 'ticker')!.exitCode).toBe(0);
    expect(minipodSync(t, ['rm', 'det']).code).toBe(0);
    expect(minipodSync(t, ['ps', '-a']).stdout).not.toMatch(/^det/m);
  });

  it('restarts a failing container with back-off (OnFailure) and keeps the previous logs', async () => {
    const pod = busyboxPod('crash', [['c', 'echo run at $(date +%s); exit 3']], { spec: { restartPolicy: 'OnFailure' } });
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'crash.json', pod)]).code).toBe(0);
    const waiting = await waitFor('back-off', () => {
      const c = inspect(t, 'crash')?.containers[0];
      return c?.state === 'waiting' && c.reason === 'CrashLoopBackOff' ? c : undefined;
    });
    expect(waiting.exitCode).toBe(3);
    const restarted = await waitFor(
      'first restart',
      () => {
        const c = inspect(t, 'crash')?.containers[0];
        return c && c.restartCount >= 1 ? c : undefined;
      },
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; events: ${fs.readFileSync(path.join(t.env.MINIPOD_LOG_DIR!, 'crash', 'minipod.events'), 'utf8')}`);
    });
    expect(restarted.restartCount).toBe(1);
    expect(minipodSync(t, ['ps']).stdout).toMatch(/^crash\s+Running\s+\d\/1\s+1\s/m);
    const previous = minipodSync(t, ['logs', '--previous', 'crash', 'c']);
    expect(previous.stdout).toMatch(/run at \d+/);
    expect(minipodSync(t, ['rm', '-f', 'crash']).code).toBe(0);
  });

  it('exits 0 when an OnFailure container fails twice, then succeeds (the pod Succeeded)', async () => {
    // The count lives in an emptyDir, which outlives the container's restarts.
    const pod = busyboxPod(
      'flaky',
      [['c', 'n=$(( $(cat /data/n 2>/dev/null || echo 0) + 1 )); echo $n > /data/n; echo run $n; [ $n -ge 3 ]']],
      {
        spec: { restartPolicy: 'OnFailure', volumes: [{ name: 'data', emptyDir: {} }] },
      },
    );
    (pod as { spec: { containers: object[] } }).spec.containers[0] = {
      ...(pod as { spec: { containers: object[] } }).spec.containers[0],
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    };
    // Back-off 10 s, then 20 s before the third run.
    const r = await minipod(t, ['run', writeManifest(t, 'flaky.json', pod)], { timeoutMs: 80_000 });
    expect(r.stdout).toMatch(/run 1[^]*run 2[^]*run 3/);
    expect(r.stderr).toMatch(/exited with code 1/);
    expect(r.code, r.stderr).toBe(0);
  }, 90_000);

  it('runs init containers in order before the app containers', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'inits' },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          {
            name: 'first',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', 'echo one >> /work/order'],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
          {
            name: 'second',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', 'echo two >> /work/order'],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
        ],
        containers: [
          {
            name: 'app',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', 'echo app >> /work/order; cat /work/order | tr "\\n" " "'],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
        ],
      },
    };
    const r = await minipod(t, ['run', writeManifest(t, 'inits.json', pod)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/app +\| one two app/);
  });

  it('fails the pod when an init container fails under restartPolicy Never, without starting the app', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'badinit' },
      spec: {
        restartPolicy: 'Never',
        initContainers: [{ name: 'setup', image: BUSYBOX_ROOTFS, command: ['sh', '-c', 'exit 4'] }],
        containers: [{ name: 'app', image: BUSYBOX_ROOTFS, command: ['sh', '-c', 'echo SHOULD-NOT-RUN'] }],
      },
    };
    const r = await minipod(t, ['run', writeManifest(t, 'badinit.json', pod)]);
    expect(r.stdout).not.toMatch(/SHOULD-NOT-RUN/);
    expect(r.stderr).toMatch(/init container setup failed with exit code 4/);
    expect(r.code).not.toBe(0);
  });

  it('kill sends a signal to one container and the restart policy applies', async () => {
    const pod = busyboxPod('killme', [
      ['a', 'exec sleep 1000'],
      ['b', 'exec sleep 1000'],
    ]);
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'killme.json', pod)]).code).toBe(0);
    expect(minipodSync(t, ['kill', '-s', 'TERM', 'killme', 'a']).code).toBe(0);
    const a = await waitFor('a terminated', () => inspect(t, 'killme')?.containers.find((c) => c.name === 'a' && c.state === 'terminated'));
    expect(a.exitCode).toBe(143);
    expect(inspect(t, 'killme')!.containers.find((c) => c.name === 'b')!.state).toBe('running');
    expect(minipodSync(t, ['rm', '-f', 'killme']).code).toBe(0);
  });

  /** Starts a detached pod and kills its supervisor (the daemon) with SIGKILL; returns its state from before. */
  async function runThenKillSupervisor(e: TestEnv, name: string, containers: [string, string][]) {
    expect(minipodSync(e, ['run', '-d', writeManifest(e, `${name}.json`, busyboxPod(name, containers))]).code).toBe(0);
    const before = inspect(e, name)!;
    process.kill(before.supervisor.pid, 'SIGKILL');
    await waitFor('supervisor gone', () => !alive(before.supervisor.pid));
    return before;
  }

  /** No process and no cgroup of the pod is left. */
  function expectAllGone(before: NonNullable<ReturnType<typeof inspect>>): void {
    for (const c of before.containers) expect(alive(c.pid!)).toBe(false);
    expect(alive(before.init!.pid)).toBe(false);
    for (const dir of before.cgroupPaths) expect(fs.existsSync(dir)).toBe(false);
  }

  // What a kill -9 of the daemon does to its pods depends on who holds the containers: with
  // the daemon they die with it (a pod nobody supervises, torn down by rm -f or gc); with conmon
  // they run on and the next command's daemon adopts the pod (survive.test.ts has more).
  it('finds and removes a pod whose supervisor was killed with SIGKILL (daemon-held)', () =>
    inMode('daemon', async (t) => {
      const before = await runThenKillSupervisor(t, 'orphan', [
        ['a', 'exec sleep 1000'],
        ['b', 'sleep 1000 & sleep 1000'],
      ]);
      expect(minipodSync(t, ['ps']).stdout).toMatch(/^orphan\s+Unknown/m);
      // The pod's processes still run: not invisible, and not leaked either.
      for (const c of before.containers) expect(alive(c.pid!)).toBe(true);
      const rm = minipodSync(t, ['rm', '-f', 'orphan']);
      expect(rm.code).toBe(0);
      expectAllGone(before);
    }));

  it('adopts a pod whose supervisor was killed with SIGKILL, and removes it (conmon-held)', () =>
    inMode('conmon', async (t) => {
      const before = await runThenKillSupervisor(t, 'orphan', [
        ['a', 'exec sleep 1000'],
        ['b', 'sleep 1000 & sleep 1000'],
      ]);
      for (const c of before.containers) expect(alive(c.pid!)).toBe(true);
      // The next command's daemon adopts the pod: same processes, a new supervisor.
      expect(minipodSync(t, ['ps']).stdout).toMatch(/^orphan\s+Running\s+2\/2\s+0\s/m);
      const after = inspect(t, 'orphan')!;
      expect(after.supervisor.pid).not.toBe(before.supervisor.pid);
      expect(after.init!.pid).toBe(before.init!.pid);
      expect(after.containers.map((c) => [c.name, c.state, c.pid])).toEqual(before.containers.map((c) => [c.name, 'running', c.pid]));
      const rm = minipodSync(t, ['rm', '-f', 'orphan']);
      expect(rm.code, rm.stderr).toBe(0);
      expectAllGone(before);
      expect(inspect(t, 'orphan')).toBeUndefined();
    }));

  it('gc frees a pod whose supervisor died (daemon-held)', () =>
    inMode('daemon', async (t) => {
      const before = await runThenKillSupervisor(t, 'gcme', [['a', 'exec sleep 1000']]);
      const r = minipodSync(t, ['gc']);
      expect(r.stdout).toMatch(/pod gcme: torn down/);
      expect(alive(before.containers[0]!.pid!)).toBe(false);
      expect(minipodSync(t, ['ps', '-a']).stdout).toMatch(/^gcme\s+Failed/m);
      expect(minipodSync(t, ['rm', 'gcme']).code).toBe(0);
    }));

  it('gc leaves a pod whose supervisor died to the daemon that adopts it (conmon-held)', () =>
    inMode('conmon', async (t) => {
      const before = await runThenKillSupervisor(t, 'gcme', [['a', 'exec sleep 1000']]);
      const r = minipodSync(t, ['gc']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/pod gcme/);
      expect(alive(before.containers[0]!.pid!)).toBe(true);
      expect(minipodSync(t, ['ps']).stdout).toMatch(/^gcme\s+Running/m);
      expect(inspect(t, 'gcme')!.supervisor.pid).not.toBe(before.supervisor.pid);
      expect(minipodSync(t, ['rm', '-f', 'gcme']).code).toBe(0);
      expect(alive(before.containers[0]!.pid!)).toBe(false);
    }));

  it('restart stops the pod and starts it again from its saved spec', async () => {
    const pod = busyboxPod('again', [['a', 'echo started at $(date +%s%N); exec sleep 1000']]);
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'again.json', pod)]).code).toBe(0);
    const first = inspect(t, 'again')!;
    const r = minipodSync(t, ['restart', '-t', '1', 'again']);
    expect(r.code).toBe(0);
    const second = inspect(t, 'again')!;
    expect(second.phase).toBe('Running');
    // One daemon supervises both; the pod is new: new init, new container process.
    expect(second.init!.pid).not.toBe(first.init!.pid);
    expect(second.containers[0]!.pid).not.toBe(first.containers[0]!.pid);
    expect(alive(first.containers[0]!.pid!)).toBe(false);
    expect(minipodSync(t, ['rm', '-f', 'again']).code).toBe(0);
  });

  it('shares the host network with hostNetwork: true', async () => {
    const pod = busyboxPod('hostnet', [['a', 'ls /sys/class/net | tr "\\n" " "; echo; hostname']], {
      spec: { hostNetwork: true, restartPolicy: 'Never' },
    });
    const r = await minipod(t, ['run', writeManifest(t, 'hostnet.json', pod)]);
    expect(r.code).toBe(0);
    const hostIfaces = fs.readdirSync('/sys/class/net');
    for (const i of hostIfaces) expect(r.stdout).toContain(i);
    expect(r.stdout).toMatch(new RegExp(`a \\| ${(await import('node:os')).hostname()}$`, 'm'));
  });

  it('every verb on a pod that does not exist fails with one line', () => {
    for (const args of [
      ['inspect', 'nope'],
      ['logs', 'nope'],
      ['stop', 'nope'],
      ['kill', 'nope'],
      ['restart', 'nope'],
      ['rm', 'nope'],
      ['stats', '--no-stream', 'nope'],
    ]) {
      const r = minipodSync(t, args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/pod "nope" does not exist/);
    }
  });
});
