/**
 * containerd 1.6 (Debian) runs containers through its runc shim (io.containerd.runc.v2) with
 * bin/minipod-oci as the runtime binary (`ctr run --runc-binary`; with the CRI plugin, the
 * runtime's `BinaryName` option does the same, docs/oci.md). The shim calls it with `--root
 * <dir> --log <bundle>/log.json --log-format json` before every command, calls `delete` twice,
 * `ps --format json`, `pause`, `resume`, `exec --process`, and reads the last error line of the
 * log. A private containerd (test/support/containerd.ts) leaves nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, isRoot, REPO } from '../support/minipod.js';
import {
  busyboxArchive,
  type Containerd,
  ctr,
  CTR_NAMESPACE,
  haveContainerd,
  startContainerd,
  stopContainerd,
} from '../support/containerd.js';

const RUNTIME = path.join(REPO, 'bin/minipod-oci');
const IMAGE = 'docker.io/library/minipod-busybox:latest';

describe.skipIf(!isRoot || !haveContainerd())('containerd with minipod-oci as its runc (root, containerd 1.6)', () => {
  let c: Containerd;
  const runtime = (): string[] => ['--runc-binary', RUNTIME, '--runc-root', c.runtimeRoot, '--fifo-dir', c.fifoDir];

  beforeAll(async () => {
    c = await startContainerd();
    const work = path.join(c.dir, 'image');
    fs.mkdirSync(work);
    const archive = busyboxArchive(BUSYBOX_ROOTFS, work, 'minipod-busybox');
    const imported = ctr(c, ['image', 'import', archive]);
    expect(imported.stderr).toBe('');
  });

  afterAll(async () => {
    if (c) await stopContainerd(c);
  });

  it('ctr run --rm: output, exit code, and nothing left', () => {
    const r = ctr(c, ['run', '--rm', ...runtime(), IMAGE, 'ctrd-run', 'sh', '-c', 'echo hello; echo to stderr >&2; exit 7']);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe('to stderr\n');
    expect(r.code).toBe(7);
    expect(ctr(c, ['container', 'ls', '-q']).stdout.trim()).toBe('');
    expect(fs.readdirSync(path.join(c.runtimeRoot, CTR_NAMESPACE))).toEqual([]);
  });

  it('ctr run --memory-limit: the kernel holds the limit (a memory hog is OOM-killed, 137)', () => {
    const limit = 16 * 1024 * 1024;
    // busybox tail keeps a line without newline in memory: /dev/zero is one endless line.
    const r = ctr(c, ['run', '--rm', ...runtime(), '--memory-limit', String(limit), IMAGE, 'ctrd-oom', 'sh', '-c', 'tail /dev/zero']);
    expect(r.code).toBe(137);
  });

  it('a detached task: exec with its exit code, ps, pause and resume, kill and delete', async () => {
    const started = ctr(c, ['run', '-d', ...runtime(), IMAGE, 'ctrd-bg', 'sleep', '300']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    try {
      const exec = ctr(c, [
        'task',
        'exec',
        '--fifo-dir',
        c.fifoDir,
        '--exec-id',
        'e1',
        'ctrd-bg',
        'sh',
        '-c',
        'echo exec-out; cat /proc/1/comm; exit 3',
      ]);
      // In the container's PID namespace: its PID 1 is the task's sleep.
      expect(exec.stdout.split('\n').filter(Boolean)).toEqual(['exec-out', 'sleep']);
      expect(exec.code).toBe(3);

      // `ctr task ps` is the shim calling `ps --format json`: the pids in the container's cgroup.
      const ps = ctr(c, ['task', 'ps', 'ctrd-bg']);
      const pids = ps.stdout
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => Number(l.trim().split(/\s+/)[0]));
      expect(pids).toHaveLength(1);
      expect(fs.readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8')).toBe('sleep\u0000300\u0000');
      const cgroup = fs.readFileSync(`/proc/${pids[0]}/cgroup`, 'utf8');
      expect(cgroup).toContain(`/${CTR_NAMESPACE}/ctrd-bg`);

      expect(ctr(c, ['task', 'pause', 'ctrd-bg']).code).toBe(0);
      expect(ctr(c, ['task', 'ls']).stdout).toMatch(/ctrd-bg\s+\d+\s+PAUSED/);
      expect(fs.readFileSync(`/proc/${pids[0]}/status`, 'utf8')).toMatch(/^State:\s+[DS]/m);
      expect(ctr(c, ['task', 'resume', 'ctrd-bg']).code).toBe(0);
      expect(ctr(c, ['task', 'ls']).stdout).toMatch(/ctrd-bg\s+\d+\s+RUNNING/);

      expect(ctr(c, ['task', 'kill', '-s', 'SIGKILL', 'ctrd-bg']).code).toBe(0);
      for (let i = 0; i < 100 && !/STOPPED/.test(ctr(c, ['task', 'ls']).stdout); i++) await new Promise((r) => setTimeout(r, 50));
      expect(ctr(c, ['task', 'ls']).stdout).toMatch(/ctrd-bg\s+\d+\s+STOPPED/);
      const deleted = ctr(c, ['task', 'delete', 'ctrd-bg']);
      expect(deleted.code).toBe(0);
      // ctr's own line: the exit status the shim reaped from the container's init.
      expect(deleted.stderr).toMatch(/exit with non-zero exit code 137/);
      expect(fs.existsSync(`/proc/${pids[0]}`)).toBe(false);
    } finally {
      ctr(c, ['task', 'delete', '-f', 'ctrd-bg']);
      ctr(c, ['container', 'delete', 'ctrd-bg']);
    }
    expect(fs.readdirSync(path.join(c.runtimeRoot, CTR_NAMESPACE))).toEqual([]);
  });

  it('a bad command fails the task with the runtime error the shim read from log.json', () => {
    const r = ctr(c, ['run', '--rm', ...runtime(), IMAGE, 'ctrd-bad', '/no/such/program']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no\/such\/program/);
    ctr(c, ['container', 'delete', 'ctrd-bad']);
  });
});
