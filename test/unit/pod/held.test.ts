/**
 * Containers held by conmon (`monitor: conmon`): the start / restart / stop sequence through
 * the host's `held` side, and a new supervisor adopting the pod after the first one let go of it
 * (a daemon killed, or handing its pods over), against the fake host.
 */
import { describe, expect, it, vi } from 'vitest';
import { readAdoptionRecord, whyNotAdoptable } from '../../../src/pod/adoption.js';
import type { PooledHeld } from '../../../src/pod/held-pool.js';
import { PodSupervisor } from '../../../src/pod/supervisor.js';
import { HelperFailed } from '../../../src/process/helper-client.js';
import { podLayout } from '../../../src/paths.js';
import { readPodState } from '../../../src/state/pod-state.js';

import { cgroups, events, host, paths, podOf, supervisor, sys, until } from './supervisor-fixture.js';

const heldPod = (spec: object) => {
  host.enableHeld();
  return supervisor(spec, { monitor: 'conmon' });
};

/** A second supervisor takes the pod over from what is on disk, as a new daemon does. */
function adoptFromDisk(spec: object) {
  const state = readPodState(paths, 'p')!;
  const record = readAdoptionRecord(podLayout(paths, 'p'))!;
  expect(whyNotAdoptable(state, record, true)).toBeUndefined();
  return PodSupervisor.adopt(podOf(spec), state, record, {
    paths,
    sys,
    cgroups,
    host,
    output: { line: () => {}, event: (m) => events.push(m) },
    trace: () => {},
    monitor: 'conmon',
  });
}

describe('containers held by conmon', () => {
  it('creates each container through conmon in the pod namespaces, then starts it: no container helpers', async () => {
    const s = heldPod({ containers: [{ name: 'web', image: './img' }] });
    await s.start();
    const init = host.helpers[0]!.pid;
    expect(host.helpers).toHaveLength(1);
    expect(host.steps('spawn', 'create', 'start', 'plan')).toEqual([
      `spawn ${init} +pid,+ipc,+net,+uts`,
      `plan p/init -> ${init}`,
      `create web ${init + 1} pid,ipc,net,uts@${init}`,
      `start ${init + 1}`,
    ]);
    const state = readPodState(paths, 'p')!;
    expect(state.monitor).toBe('conmon');
    expect(state.containers[0]).toMatchObject({
      state: 'running',
      pid: init + 1,
      held: { id: 'p_web', conmon: { pid: init + 1 + 50_000 } },
    });
    await s.stop();
    expect(readPodState(paths, 'p')).toBeUndefined();
  });

  it('uses the pooled conmons of a warm sandbox for the first starts, and drains the ones left over', async () => {
    host.enableHeld();
    const pooled = (id: string, initPid: number) => ({ id, initPid }) as unknown as PooledHeld;
    const warm = {
      claim: () => {
        const init = host.spawnHelper({ create: ['pid', 'ipc', 'net', 'uts'], join: null });
        return { init, containers: [], held: [pooled('mp-a', init.pid), pooled('mp-b', init.pid), pooled('mp-c', init.pid)] };
      },
    };
    const s = supervisor(
      {
        containers: [
          { name: 'web', image: './img' },
          { name: 'shell', image: './img', stdin: true },
        ],
      },
      { monitor: 'conmon', warm },
    );
    await s.start();
    const init = host.helpers[0]!.pid;
    expect(host.steps('create', 'discard-pooled')).toEqual([
      'discard-pooled mp-b',
      'discard-pooled mp-c',
      `create web ${init + 1} pid,ipc,net,uts@${init} pooled mp-a`,
      // stdin: conmon's -i is given at its start, a pooled one has none
      `create shell ${init + 2} pid,ipc,net,uts@${init}`,
    ]);
    await s.stop();
  });

  it('drains a pooled conmon a container never started with (the pod failed before)', async () => {
    host.enableHeld();
    host.networkFailure = new Error('no bridge');
    const warm = {
      claim: () => {
        const init = host.spawnHelper({ create: ['pid', 'ipc', 'net', 'uts'], join: null });
        return { init, containers: [], held: [{ id: 'mp-a', initPid: init.pid } as unknown as PooledHeld] };
      },
    };
    const s = supervisor({ containers: [{ name: 'web', image: './img' }] }, { monitor: 'conmon', warm });
    await expect(s.start()).rejects.toThrow();
    expect(host.steps('create', 'discard-pooled')).toEqual(['discard-pooled mp-a']);
  });

  it('restarts an exited container under a new conmon, after removing the old runtime state', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    host.script.web = [1];
    const s = heldPod({ containers: [{ name: 'web', image: './img' }] });
    await s.start();
    await until(() => readPodState(paths, 'p')!.containers[0]!.reason === 'CrashLoopBackOff');
    await vi.advanceTimersByTimeAsync(10_000);
    await until(() => host.steps('create').length === 2);
    expect(host.steps('remove')).toEqual(['remove p_web']);
    await until(() => readPodState(paths, 'p')!.containers[0]!.restartCount === 1);
    await s.stop();
  });

  /** Two containers: `fast` exits during its start (host.exitsDuringStart), `slow` after it. */
  const FAST_THEN_SLOW = {
    restartPolicy: 'Never',
    containers: [
      { name: 'fast', image: './img' },
      { name: 'slow', image: './img' },
    ],
  };

  it('handles an exit conmon reported before the start returned: the pod still ends (a fast program on a busy host)', async () => {
    // seccomp.test.ts's probe exits within milliseconds: its exit file can be seen before the
    // daemon's read of the exec fifo returns. The other container exits after it.
    host.exitsDuringStart.fast = 3;
    host.script.slow = [0];
    const s = heldPod(FAST_THEN_SLOW);
    await s.start();
    const timeout = new Promise((r) => setTimeout(() => r('the pod did not end'), 2000).unref());
    expect(await Promise.race([s.done, timeout])).toBe(3);
    expect(events.join('\n')).toContain('container fast exited with code 3 (Error)');
  });

  it('records such an exit after the start: terminated, with its start and exit times', async () => {
    host.exitsDuringStart.fast = 0;
    const s = heldPod(FAST_THEN_SLOW);
    await s.start();
    await until(() => readPodState(paths, 'p')!.containers[0]!.state === 'terminated');
    expect(readPodState(paths, 'p')!.containers[0]).toMatchObject({
      state: 'terminated',
      exitCode: 0,
      reason: 'Completed',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    await s.stop();
  });

  it("records a create the runtime refused as a StartError with podman's code", async () => {
    host.execFailures.web = new HelperFailed('exec: "nope": executable file not found in $PATH', 127);
    const s = heldPod({ restartPolicy: 'Never', containers: [{ name: 'web', image: './img' }] });
    await s.start();
    expect(await s.done).toBe(127);
    expect(events.join('\n')).toContain('container web could not start: exec: "nope": executable file not found');
  });

  it('is adopted by a new supervisor: the running container is watched again and its exit handled', async () => {
    const spec = { restartPolicy: 'Never', containers: [{ name: 'web', image: './img' }] };
    const first = heldPod(spec);
    await first.start();
    const pid = readPodState(paths, 'p')!.containers[0]!.pid!;
    first.release();
    const second = adoptFromDisk(spec);
    expect(readPodState(paths, 'p')!.supervisor.pid).toBe(process.pid);
    host.exit(pid, 3);
    expect(await second.done).toBe(3);
    const state = readPodState(paths, 'p')!;
    expect(state.phase).toBe('Failed');
    expect(state.containers[0]).toMatchObject({ state: 'terminated', exitCode: 3, reason: 'Error' });
  });

  it('reads at adoption an exit conmon recorded while no daemon ran, and applies the restart policy', async () => {
    const spec = { restartPolicy: 'OnFailure', containers: [{ name: 'web', image: './img' }] };
    const first = heldPod(spec);
    await first.start();
    const pid = readPodState(paths, 'p')!.containers[0]!.pid!;
    first.release();
    host.exit(pid, 2); // nobody listens: only the "exit file" keeps it
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const second = adoptFromDisk(spec);
    await until(() => readPodState(paths, 'p')!.containers[0]!.reason === 'CrashLoopBackOff');
    await vi.advanceTimersByTimeAsync(10_000);
    await until(() => host.steps('create').length === 2);
    const state = readPodState(paths, 'p')!;
    expect(state.containers[0]).toMatchObject({ restartCount: 1, state: 'running' });
    expect(events.join('\n')).toContain('container web exited with code 2 (Error)');
    await second.stop();
  });

  it('stops an adopted pod whose init is gone', async () => {
    const spec = { containers: [{ name: 'web', image: './img' }] };
    const first = heldPod(spec);
    await first.start();
    first.release();
    const second = adoptFromDisk(spec);
    host.exit(host.helpers[0]!.pid, null, 'SIGKILL');
    await second.done;
    expect(events.join('\n')).toContain("the pod's init exited");
  });

  it('is not adoptable half-way through its start, nor when the daemon held its containers', async () => {
    host.script.web = [];
    const s = supervisor({ containers: [{ name: 'web', image: './img' }] });
    await s.start();
    const state = readPodState(paths, 'p')!;
    expect(whyNotAdoptable(state, undefined, true)).toBe('the daemon held its containers');
    expect(whyNotAdoptable({ ...state, monitor: 'conmon', phase: 'Pending' }, undefined, true)).toBe('it was Pending');
    expect(whyNotAdoptable({ ...state, monitor: 'conmon' }, undefined, false)).toBe('its init is gone');
    await s.stop();
  });
});
