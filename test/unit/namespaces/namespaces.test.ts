import { describe, expect, it } from 'vitest';
import { CLONE } from '../../../native-bindings/constants.js';
import { spawnInNamespaces } from '../../../src/namespaces/pod-namespaces.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';

function fakeFiles() {
  const opened: string[] = [];
  let next = 100;
  const byFd = new Map<number, string>();
  return {
    opened,
    byFd,
    files: {
      open: (p: string) => {
        opened.push(p);
        byFd.set(next, p);
        return next++;
      },
      close: (fd: number) => void byFd.delete(fd),
    },
  };
}

describe('spawnInNamespaces', () => {
  it('unshares, spawns, and returns to the saved namespaces', () => {
    const sys = new RecordingSyscall();
    const f = fakeFiles();
    const result = spawnInNamespaces(
      sys,
      { create: ['pid', 'net', 'ipc', 'uts'], join: null },
      () => {
        expect(sys.callsOf('unshare')).toEqual([[CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS]]);
        return 'spawned';
      },
      f.files,
    );
    expect(result).toBe('spawned');
    expect(f.opened).toContain('/proc/thread-self/ns/pid_for_children');
    // Four setns calls back, one per saved namespace; every fd closed.
    expect(
      sys
        .callsOf('setns')
        .map((c) => c[1])
        .sort(),
    ).toEqual([CLONE.NEWNET, CLONE.NEWUTS, CLONE.NEWIPC, CLONE.NEWPID].sort());
    expect(f.byFd.size).toBe(0);
  });

  it('joins before it creates, so a container can have its own PID namespace in the pod', () => {
    const sys = new RecordingSyscall();
    const f = fakeFiles();
    spawnInNamespaces(sys, { create: ['pid'], join: { pid: 42, namespaces: ['net', 'ipc', 'uts'] } }, () => null, f.files);
    const order = sys.calls.map((c) => c.name);
    expect(order.indexOf('unshare')).toBeGreaterThan(order.indexOf('setns'));
    expect(f.opened).toContain('/proc/42/ns/net');
  });

  it('restores the namespaces even when the spawn throws', () => {
    const sys = new RecordingSyscall();
    const f = fakeFiles();
    expect(() =>
      spawnInNamespaces(
        sys,
        { create: ['net'], join: null },
        () => {
          throw new Error('boom');
        },
        f.files,
      ),
    ).toThrow('boom');
    expect(sys.callsOf('setns')).toHaveLength(1);
  });
});
