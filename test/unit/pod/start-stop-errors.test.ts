/**
 * What a failing pod start or stop says: a host failure deep in a step reads
 * `minipod: host: <step> of pod P: <call> <path>: <errno>` and `minipod: check: <hint>`, a bug
 * still prints as an internal error, and a teardown step that fails is a warning that does not
 * stop the next one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { CgroupManager } from '../../../src/cgroups/manager.js';
import { reportError } from '../../../src/cli/report.js';
import { HostError, SyscallError } from '../../../src/errors.js';
import { podLayout } from '../../../src/paths.js';
import { teardownPod } from '../../../src/pod/teardown.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';
import { host, paths, supervisor, sys } from './supervisor-fixture.js';

/** What the CLI prints for an error, and its exit code. */
function printed(err: unknown): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    return { exitCode: reportError(err), lines };
  } finally {
    write.mockRestore();
  }
}

const EBUSY = 16;

describe('a failing pod start', () => {
  it('names the step, the pod, the call, the path and the errno of a failing syscall, and what to check', async () => {
    sys.failNext('mount', EBUSY, 1, (args) => args[2] === 'tmpfs');
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    const err = await s.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostError);
    const shm = path.join(paths.runDir, 'pods/p/shm');
    expect(printed(err)).toEqual({
      lines: [
        `minipod: host: prepare images, volumes and files of pod p: mount the pod's /dev/shm: mount tmpfs on ${shm}: EBUSY`,
        'minipod: check: something else holds it: a mount (findmnt), a process in the cgroup, a leftover of an earlier pod (minipod gc)',
      ],
      exitCode: 125,
    });
    // Torn down, name free: the failed start left nothing.
    expect(await s.done).toBe(125);
    expect(fs.existsSync(path.join(paths.runDir, 'pods/p'))).toBe(false);
  });

  it("says the same of a failing fs call (Node's own error: the call, the path, the errno)", async () => {
    // The pod's folder in the lib dir cannot be made: a file is where its parent should be.
    fs.mkdirSync(paths.libDir, { recursive: true });
    fs.writeFileSync(path.join(paths.libDir, 'pods'), '');
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    const err = await s.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    const { lines } = printed(err);
    expect(lines[0]).toBe(`minipod: host: prepare images, volumes and files of pod p: mkdir ${path.join(paths.libDir, 'pods/p')}: ENOTDIR`);
    expect(lines[1]).toMatch(/^minipod: check: a path that should be a directory is a file/);
    expect(lines).toHaveLength(2);
  });

  it('names the step of a later one too (the network), keeping the kind of the error', async () => {
    host.networkFailure = new SyscallError('setns', 22, '/proc/1/ns/net');
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    const { lines } = printed(await s.start().catch((e: unknown) => e));
    expect(lines[0]).toBe('minipod: host: set up the network of pod p: setns /proc/1/ns/net: EINVAL');
    expect(lines[1]).toMatch(/^minipod: check: the kernel refused the arguments/);
  });

  it('still prints a bug as an internal error, with the step it happened in', async () => {
    host.networkFailure = new TypeError("Cannot read properties of undefined (reading 'ip')");
    const s = supervisor({ containers: [{ name: 'c', image: './img' }] });
    const err = await s.start().catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(HostError);
    expect(printed(err)).toEqual({
      lines: ["minipod: internal error: set up the network of pod p: Cannot read properties of undefined (reading 'ip')"],
      exitCode: 125,
    });
  });
});

describe('a failing teardown step', () => {
  it('is a warning naming the step, the pod and what to check, and the next steps still run', async () => {
    const layout = podLayout(paths, 'p');
    for (const d of [layout.runDir, layout.libDir, layout.logDir]) fs.mkdirSync(d, { recursive: true });
    const cgroups = {
      destroy: () => Promise.reject(new SyscallError('rmdir', EBUSY, '/sys/fs/cgroup/minipod/p/c')),
    } as unknown as CgroupManager;
    const warnings: string[] = [];
    await teardownPod('p', { paths, sys: new RecordingSyscall(), cgroups, warn: (m) => warnings.push(m), keepHostNetwork: true });
    expect(warnings).toEqual([
      'remove the cgroups of pod p: rmdir /sys/fs/cgroup/minipod/p/c: EBUSY (check: something else holds it: a mount (findmnt), a process in the cgroup, a leftover of an earlier pod (minipod gc))',
    ]);
    expect([layout.runDir, layout.libDir, layout.logDir].filter((d) => fs.existsSync(d))).toEqual([]);
  });
});
