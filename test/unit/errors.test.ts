import { describe, expect, it } from 'vitest';
import { describeError, exitCodeFor, HostError, SyscallError, UserError, withContext } from '../../../src/errors.js';
import { CniError } from '../../../src/network/cni/errors.js';

describe('error kinds', () => {
  it("prints a kernel refusal as the host's failure, with what to check, not as an internal error", () => {
    const err = withContext("mount the pod's /dev/shm", new SyscallError('mount', 16, 'tmpfs on /run/minipod/pods/p/shm'));
    expect(err).toBeInstanceOf(HostError);
    expect(describeError(err)).toEqual({
      lines: [
        "host: mount the pod's /dev/shm: mount tmpfs on /run/minipod/pods/p/shm: EBUSY",
        'check: something else holds it: a mount (findmnt), a process in the cgroup, a leftover of an earlier pod (minipod gc)',
      ],
      internal: false,
    });
    expect(exitCodeFor(err)).toBe(125);
  });

  it("treats a failing CNI plugin as the host's network setup and says where to look", () => {
    const { lines, internal } = describeError(new CniError('bridge', 'ADD', 'failed to find plugin "bridge"'));
    expect(internal).toBe(false);
    expect(lines[0]).toBe('host: CNI plugin bridge ADD: failed to find plugin "bridge"');
    expect(lines[1]).toMatch(/^check: the plugins in MINIPOD_CNI_PATH/);
  });

  it("keeps the user's mistakes to one line and bugs as internal errors", () => {
    expect(describeError(withContext('pod "p"', new UserError('spec.containers[0].image: must not be empty')))).toEqual({
      lines: ['pod "p": spec.containers[0].image: must not be empty'],
      internal: false,
    });
    expect(describeError(new TypeError('x is undefined'))).toEqual({ lines: ['internal error: x is undefined'], internal: true });
  });
});
