import { describe, expect, it } from 'vitest';
import { idMapFileText, mapToHost } from '../../../src/oci/config/idmap.js';
import { planUsernsSpawn } from '../../../src/oci/executor/userns.js';
import { newUserNamespaceCommand } from '../../../src/process/helper-client.js';
import { planPreservedFds, preservedFdMoves } from '../../../src/process/preserve-fds.js';

describe('id maps', () => {
  const maps = [
    { containerID: 0, hostID: 100000, size: 1000 },
    { containerID: 1000, hostID: 5000, size: 1 },
  ];
  it('are written one line a mapping, as the kernel reads them', () => {
    expect(idMapFileText(maps)).toBe('0 100000 1000\n1000 5000 1\n');
  });
  it('map a container id to its host id, or to nothing', () => {
    expect(mapToHost(maps, 0)).toBe(100000);
    expect(mapToHost(maps, 999)).toBe(100999);
    expect(mapToHost(maps, 1000)).toBe(5000);
    expect(mapToHost(maps, 1001)).toBeUndefined();
  });
});

describe('planUsernsSpawn', () => {
  it('joins what has a path from the runtime, and has util-linux unshare the new ones with the user namespace', () => {
    const plan = planUsernsSpawn([
      { type: 'pid' },
      { type: 'network', path: '/run/netns/x' },
      { type: 'ipc' },
      { type: 'uts' },
      { type: 'mount' },
      { type: 'cgroup' },
      { type: 'user' },
    ]);
    expect(plan).toEqual({
      joined: [{ type: 'network', path: '/run/netns/x' }],
      // mount and cgroup are the helper's own (it unshares them inside the user namespace).
      unshare: ['--pid', '--ipc', '--uts'],
    });
  });

  it('enters a user namespace given by path first when namespaces are to be made in it', () => {
    expect(planUsernsSpawn([{ type: 'pid' }, { type: 'mount' }, { type: 'user', path: '/proc/7/ns/user' }])).toEqual({
      joined: [],
      unshare: ['--pid'],
      join: '/proc/7/ns/user',
    });
    expect(newUserNamespaceCommand(['--pid'], ['node'], '/proc/7/ns/user')).toEqual([
      '/usr/bin/nsenter',
      '--user=/proc/7/ns/user',
      '--',
      '/usr/bin/unshare',
      '--pid',
      '--',
      '/usr/bin/setsid',
      '--fork',
      '--',
      'node',
    ]);
  });

  it('leaves the rest to nsenter --user when every other namespace is joined (the pod path), and does nothing without a user namespace', () => {
    expect(
      planUsernsSpawn([{ type: 'pid', path: '/proc/7/ns/pid' }, { type: 'mount' }, { type: 'user', path: '/proc/7/ns/user' }]),
    ).toBeUndefined();
    expect(planUsernsSpawn([{ type: 'pid' }, { type: 'mount' }])).toBeUndefined();
  });

  it('forks the helper as PID 1 of a new pid namespace, and only then', () => {
    expect(newUserNamespaceCommand(['--pid', '--net'], ['node', 'h.js'])).toEqual([
      '/usr/bin/unshare',
      '--user',
      '--keep-caps',
      '--pid',
      '--net',
      '--',
      '/usr/bin/setsid',
      '--fork',
      '--',
      'node',
      'h.js',
    ]);
    expect(newUserNamespaceCommand(['--net'], ['node', 'h.js'])).toEqual([
      '/usr/bin/unshare',
      '--user',
      '--keep-caps',
      '--net',
      '--',
      'node',
      'h.js',
    ]);
  });
});

describe('--preserve-fds', () => {
  it('passes nothing for 0', () => {
    expect(planPreservedFds(0, 0, () => false)).toEqual({ pass: [] });
  });

  it("passes the caller's fds 3.. after the control socket and the console socket", () => {
    expect(planPreservedFds(2, 0, () => true)).toEqual({ pass: [3, 4], plan: { first: 4, count: 2 } });
    expect(planPreservedFds(2, 1, () => true)).toEqual({ pass: [3, 4], plan: { first: 5, count: 2 } });
  });

  it('refuses a descriptor the caller did not open', () => {
    expect(() => planPreservedFds(3, 0, (fd) => fd !== 5)).toThrow('--preserve-fds 3: fd 5 is not open (the caller passes fds 3..5)');
  });

  it('moves them back to 3.. in an order that overwrites nothing still to move', () => {
    for (const first of [4, 5, 6]) {
      for (const count of [1, 2, 3, 5]) {
        const moves = preservedFdMoves({ first, count });
        // Simulate: fd table of the helper, then apply the dup2s in order.
        const table = new Map<number, string>();
        for (let i = 0; i < count; i++) table.set(first + i, `p${i}`);
        for (const [from, to] of moves) table.set(to, table.get(from)!);
        for (let i = 0; i < count; i++) expect(table.get(3 + i)).toBe(`p${i}`);
      }
    }
    expect(() => preservedFdMoves({ first: 3, count: 1 })).toThrow(/over the control socket/);
  });
});
