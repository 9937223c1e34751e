import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeError, errorLine, exitCodeFor, HostError, inStep, SyscallError, UserError, withContext } from '../../src/errors.js';
import { CniError } from '../../src/network/cni/errors.js';

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

  it("reads Node's fs errors as the SyscallErrors they are: the call, the path, the errno", () => {
    const missing = path.join(os.tmpdir(), `minipod-no-such-dir-${process.pid}`, 'x');
    let nodeError: unknown;
    try {
      fs.mkdirSync(missing);
    } catch (err) {
      nodeError = err;
    }
    const err = withContext('claim the name of pod p', nodeError);
    expect(err).toBeInstanceOf(HostError);
    expect(describeError(err).lines).toEqual([
      `host: claim the name of pod p: mkdir ${missing}: ENOENT`,
      'check: a path or a kernel interface is missing (is the filesystem mounted, the module loaded?)',
    ]);
    // Unwrapped too: the CLI and the daemon print it as the host's.
    expect(describeError(nodeError).internal).toBe(false);
    expect(errorLine(nodeError)).toMatch(/^mkdir .*: ENOENT \(check: a path or a kernel interface is missing/);
  });

  it('inStep adds the step to host failures and bugs, and leaves a user error as it is', async () => {
    const user = new UserError('spec.containers[0].image: "x" not found');
    await expect(inStep('prepare images of pod p', () => Promise.reject(user))).rejects.toBe(user);
    await expect(inStep('start the init of pod p', () => Promise.reject(new SyscallError('execve', 2, '/catatonit')))).rejects.toThrow(
      'start the init of pod p: execve /catatonit: ENOENT',
    );
    const bug = await inStep('set up the network of pod p', () => {
      throw new TypeError('x is undefined');
    }).catch((e: unknown) => e);
    expect(describeError(bug)).toEqual({ lines: ['internal error: set up the network of pod p: x is undefined'], internal: true });
  });
});
