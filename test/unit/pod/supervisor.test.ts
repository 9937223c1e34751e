/**
 * The supervisor's start / stop / restart sequence against a fake host (fake-host.ts), the real
 * v2 cgroup manager on the fake cgroupfs, and the recording syscall fake: no root, no processes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { PodInitPlan } from '../../../src/plan/types.js';
import { HelperFailed } from '../../../src/process/helper-client.js';
import { readPodState } from '../../../src/state/pod-state.js';

import { paths, cgroups, host, sys, events, supervisor, containerPlans, until } from './supervisor-fixture.js';

describe('PodSupervisor start', () => {
  it('creates the pod in the documented order: helpers, cgroups, images, init, network, init containers, apps', async () => {
    host.script.setup = [0];
    const s = supervisor({
      restartPolicy: 'Never',
      initContainers: [{ name: 'setup', image: './img-a' }],
      containers: [
        { name: 'web', image: './img-b' },
        { name: 'side', image: './img-c' },
      ],
    });
    await s.start();
    const init = host.helpers[0]!.pid;
    expect(host.log.filter((l) => !l.startsWith('exit'))).toEqual([
      // The init in fresh namespaces, only the first init container's helper ahead of time
      // (minipod shares the PID namespace by default: catatonit is every container's PID 1).
      `spawn ${init} +pid,+ipc,+net,+uts`,
      `spawn ${init + 1} pid@${init},ipc@${init},net@${init},uts@${init}`,
      'image spec.initContainers[0].image ./img-a',
      'image spec.containers[0].image ./img-b',
      'image spec.containers[1].image ./img-c',
      'ports checked',
      `plan p/init -> ${init}`,
      `network /proc/${init}/ns/net`,
      `plan p/setup -> ${init + 1}`,
      // Apps get their helpers only once the init containers succeeded.
      `spawn ${init + 2} pid@${init},ipc@${init},net@${init},uts@${init}`,
      `spawn ${init + 3} pid@${init},ipc@${init},net@${init},uts@${init}`,
      `plan p/web -> ${init + 2}`,
      `plan p/side -> ${init + 3}`,
    ]);
    const state = readPodState(paths, 'p')!;
    expect(state.phase).toBe('Running');
    expect(state.containers.map((c) => [c.name, c.state, c.pid])).toEqual([
      ['setup', 'terminated', undefined],
      ['web', 'running', init + 2],
      ['side', 'running', init + 3],
    ]);
    // The shared /dev/shm and the tmpfs of the process records are the host mounts of a pod without volumes.
    expect(sys.callsOf('mount').map((c) => c[1])).toEqual([
      path.join(paths.runDir, 'pods/p/shm'),
      path.join(paths.runDir, 'pods/p/containers'),
    ]);
    expect(fs.readFileSync(path.join(paths.runDir, 'pods/p/hosts'), 'utf8')).toContain('10.88.0.2');
    expect(fs.readFileSync(path.join(paths.runDir, 'pods/p/resolv.conf'), 'utf8')).toContain('192.0.2.53');
    await s.stop();
  });

  it('plans PID 1 with the pod planner: catatonit -P, hostname, lo up, its cgroup to join', async () => {
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    await s.start();
    const init = host.plans[0]!.plan as PodInitPlan;
    expect(init).toMatchObject({
      kind: 'pod-init',
      id: 'p/init',
      initBinary: '/usr/bin/catatonit',
      args: ['catatonit', '-P'],
      hostname: 'p',
      loopbackUp: true,
    });
    expect(init.cgroupProcs).toEqual(cgroups.procsFiles('p', 'init'));
    // Without a mover every helper joins its cgroups itself, and the record keeps them for exec.
    expect(containerPlans()[0]!.cgroupProcs).toEqual(cgroups.procsFiles('p', 'c'));
    await s.stop();
  });

  it('skips the join in the plans of helpers the mover already put in their cgroups', async () => {
    const moves: { pid: number; files: string[] }[][] = [];
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] }, { cgroupMover: { move: async (m) => void moves.push(m) } });
    await s.start();
    const [init, c] = host.helpers;
    // Containers first (their exec waits for the move), PID 1 last.
    expect(moves).toEqual([
      [
        { pid: c!.pid, files: cgroups.procsFiles('p', 'c') },
        { pid: init!.pid, files: cgroups.procsFiles('p', 'init') },
      ],
    ]);
    expect((host.plans[0]!.plan as PodInitPlan).cgroupProcs).toEqual([]);
    expect(containerPlans()[0]!.cgroupProcs).toEqual([]);
    const record = JSON.parse(fs.readFileSync(path.join(paths.runDir, 'pods/p/containers/c.json'), 'utf8'));
    expect(record.cgroupProcs).toEqual(cgroups.procsFiles('p', 'c'));
    await s.stop();
  });

  it('refuses a host without catatonit before spawning anything, and frees the name', async () => {
    host.initBinary = undefined;
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    await expect(s.start()).rejects.toThrow(/catatonit \(the pod's init process\) is not installed/);
    expect(host.steps('spawn')).toEqual([]);
    expect(await s.done).toBe(125);
    expect(fs.existsSync(path.join(paths.runDir, 'pods/p'))).toBe(false);
  });

  it('tears down what it made when a step fails half-way, and reports that one error', async () => {
    host.networkFailure = new Error('CNI ADD failed');
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    await expect(s.start()).rejects.toThrow('CNI ADD failed');
    expect(host.log.at(-2)).toMatch(/^teardown p keepState=false/);
    expect(host.steps('plan')).toEqual([`plan p/init -> ${host.helpers[0]!.pid}`]);
    expect(await s.done).toBe(125);
    expect(readPodState(paths, 'p')).toBeUndefined();
  });
});

describe('PodSupervisor exits and restarts', () => {
  it('ends the pod when its containers are done: Succeeded, exit 0, record kept when asked', async () => {
    host.script.c = [0];
    const s = supervisor({ restartPolicy: 'OnFailure', containers: [{ name: 'c', image: './img' }] }, { keepRecord: true });
    await s.start();
    expect(await s.done).toBe(0);
    const state = readPodState(paths, 'p')!;
    expect(state.phase).toBe('Succeeded');
    expect(state.containers[0]).toMatchObject({ state: 'terminated', exitCode: 0, reason: 'Completed' });
    expect(host.steps('teardown')).toEqual(['teardown p keepState=true']);
  });

  it('restarts a failed container after the back-off (10 s), as a new instance', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    host.script.c = [3, 0];
    const s = supervisor({ restartPolicy: 'OnFailure', containers: [{ name: 'c', image: './img' }] }, { keepRecord: true });
    await s.start();
    await until(() => events.includes('restarting c in 10s (restart 1)'));
    expect(readPodState(paths, 'p')!.containers[0]).toMatchObject({ state: 'waiting', reason: 'CrashLoopBackOff', restartCount: 0 });
    await vi.advanceTimersByTimeAsync(9_000);
    expect(containerPlans()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(containerPlans()).toHaveLength(2);
    // The restart succeeded: the pod Succeeded and `run` exits 0 (issue #18), the failed run
    // before it does not count.
    expect(await s.done).toBe(0);
    expect(readPodState(paths, 'p')!.phase).toBe('Succeeded');
    expect(readPodState(paths, 'p')!.containers[0]).toMatchObject({ exitCode: 0, restartCount: 1 });
    // A restart is a new instance: a fresh helper.
    expect(host.steps('spawn')).toHaveLength(3);
  });

  it('does not restart a container whose command could not run, and exits with its code', async () => {
    host.execFailures.c = new HelperFailed('exec /nope: no such file or directory', 127);
    const s = supervisor({ restartPolicy: 'Always', containers: [{ name: 'c', image: './img' }] });
    await s.start();
    expect(await s.done).toBe(127);
    expect(events).toContain('container c exited with code 127 (StartError)');
    expect(containerPlans()).toHaveLength(1);
  });

  it('fails the pod on a failed init container under restartPolicy Never; the apps never start', async () => {
    host.script.setup = [2];
    const s = supervisor({
      restartPolicy: 'Never',
      initContainers: [{ name: 'setup', image: './i' }],
      containers: [{ name: 'c', image: './img' }],
    });
    await s.start();
    expect(await s.done).toBe(2);
    expect(containerPlans().map((p) => p.id)).toEqual(['p/setup']);
    expect(events).toContain('init container setup failed with exit code 2: the pod failed');
  });

  it('retries a failed init container with the same back-off, then starts the apps', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    host.script.setup = [1, 0];
    const s = supervisor({
      restartPolicy: 'Always',
      initContainers: [{ name: 'setup', image: './i' }],
      containers: [{ name: 'c', image: './img' }],
    });
    const started = s.start();
    await until(() => events.includes('init container setup failed with exit code 1; restarting in 10s'));
    await vi.advanceTimersByTimeAsync(9_000);
    expect(containerPlans().map((p) => p.id)).toEqual(['p/setup']);
    await vi.advanceTimersByTimeAsync(1_000);
    await started;
    expect(containerPlans().map((p) => p.id)).toEqual(['p/setup', 'p/setup', 'p/c']);
    await s.stop();
  });

  it('stops the pod when its init dies', async () => {
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    await s.start();
    host.exit(host.helpers[0]!.pid, null, 'SIGKILL');
    expect(await s.done).toBe(0);
    expect(events).toContain("the pod's init exited (SIGKILL); stopping the pod");
    expect(host.steps('teardown')).toHaveLength(1);
  });
});

describe('PodSupervisor stop', () => {
  it('sends the stop signal to every running container, waits, tears down, exits with the signal code', async () => {
    const s = supervisor(
      {
        containers: [
          { name: 'a', image: './img' },
          { name: 'b', image: './img' },
        ],
      },
      { keepRecord: true },
    );
    await s.start();
    const [, a, b] = host.helpers;
    expect(await s.stop({ signalExit: 130 })).toBe(130);
    expect(host.steps('signal', 'teardown')).toEqual([`signal ${a!.pid} SIGTERM`, `signal ${b!.pid} SIGTERM`, 'teardown p keepState=true']);
    const state = readPodState(paths, 'p')!;
    expect(state.phase).toBe('Stopped');
    expect(state.containers.map((c) => c.state)).toEqual(['terminated', 'terminated']);
  });

  it('SIGKILLs what outlives the grace period', async () => {
    const s = supervisor({ containers: [{ name: 'a', image: './img' }] });
    await s.start();
    const a = host.helpers[1]!.pid;
    // A container that ignores SIGTERM.
    const signal = host.signal.bind(host);
    host.signal = (pid, sig) => (sig === 'SIGTERM' ? void host.log.push(`signal ${pid} ${sig}`) : signal(pid, sig));
    await s.stop({ graceSeconds: 0.05 });
    expect(host.steps('signal')).toEqual([`signal ${a} SIGTERM`, `signal ${a} SIGKILL`]);
  });

  it('cancels a pending restart', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    host.script.c = [1];
    const s = supervisor({ restartPolicy: 'Always', containers: [{ name: 'c', image: './img' }] });
    await s.start();
    await until(() => events.includes('restarting c in 10s (restart 1)'));
    await s.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(containerPlans()).toHaveLength(1);
  });
});
