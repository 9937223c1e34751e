/**
 * containerd 1.6 (Debian) runs containers through its runc shim (io.containerd.runc.v2) with
 * bin/minipod-oci as the runtime binary (`ctr run --runc-binary`; with the CRI plugin, the
 * runtime's `BinaryName` option does the same, docs/oci.md). The shim calls it with `--root
 * <dir> --log <bundle>/log.json --log-format json` before every command, calls `delete` twice,
 * `ps --format json`, `pause`, `resume`, `exec --process`, and reads the last error line of the
 * log. A private containerd (test/support/containerd.ts) leaves nothing behind.
 *
 * User namespaces (`ctr run --uidmap/--gidmap`): ctr chowns a copy of the image's snapshot to
 * the mapped ids and writes the maps into config.json; the task options it sends with them
 * replace the container's runtime options in containerd 1.6, so the shim runs its default
 * `runc` from PATH: here a containerd whose `runc` is bin/minipod-oci.
 */
import { spawnSync } from 'node:child_process';
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
  SHIM_DEFAULT_RUNTIME_ROOT,
  startContainerd,
  stopContainerd,
} from '../support/containerd.js';

const RUNTIME = path.join(REPO, 'bin/minipod-oci');
const IMAGE = 'docker.io/library/minipod-busybox:latest';

function importBusybox(c: Containerd): void {
  const work = path.join(c.dir, 'image');
  fs.mkdirSync(work);
  const archive = busyboxArchive(BUSYBOX_ROOTFS, work, 'minipod-busybox');
  const imported = ctr(c, ['image', 'import', archive]);
  expect(imported.stderr).toBe('');
}

/** `ctr task ls`'s pid of a task. */
function taskPid(c: Containerd, id: string): number {
  const line = ctr(c, ['task', 'ls'])
    .stdout.split('\n')
    .find((l) => l.startsWith(`${id} `));
  return Number(line?.trim().split(/\s+/)[1]);
}

async function waitStopped(c: Containerd, id: string): Promise<void> {
  for (let i = 0; i < 100 && !new RegExp(`${id}\\s+\\d+\\s+STOPPED`).test(ctr(c, ['task', 'ls']).stdout); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!isRoot || !haveContainerd())('containerd with minipod-oci as its runc (root, containerd 1.6)', () => {
  let c: Containerd;
  const runtime = (): string[] => ['--runc-binary', RUNTIME, '--runc-root', c.runtimeRoot, '--fifo-dir', c.fifoDir];

  beforeAll(async () => {
    c = await startContainerd();
    importBusybox(c);
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
      await waitStopped(c, 'ctrd-bg');
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

describe.skipIf(!isRoot || !haveContainerd())('containerd with minipod-oci as its runc: user namespaces (ctr run --uidmap)', () => {
  let c: Containerd;
  const MAPS = ['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'];
  let shared: string;
  let rootOwned: string;

  beforeAll(async () => {
    c = await startContainerd({ runcOnPath: RUNTIME });
    // The container's root (host uid 100000) must reach the bundle under <dir>/state.
    fs.chmodSync(c.dir, 0o755);
    importBusybox(c);
    shared = path.join(c.dir, 'shared');
    fs.mkdirSync(shared);
    fs.chownSync(shared, 100000, 100000);
    rootOwned = path.join(c.dir, 'root-owned');
    fs.writeFileSync(rootOwned, "host root's\n", { mode: 0o644 });
  });

  afterAll(async () => {
    if (c) await stopContainerd(c);
  });

  it('ctr run --rm --uidmap: root inside, the maps, output and exit code back through ctr, nothing left', () => {
    const script = 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; echo to stderr >&2; exit 7';
    const r = ctr(c, ['run', '--rm', '--fifo-dir', c.fifoDir, ...MAPS, IMAGE, 'ctrd-userns-run', 'sh', '-c', script]);
    expect(r.stderr).toBe('to stderr\n');
    expect(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0 100000 65536', '0 100000 65536', '0', '0', '']);
    expect(r.code).toBe(7);
    expect(ctr(c, ['container', 'ls', '-q']).stdout.trim()).toBe('');
    expect(fs.readdirSync(SHIM_DEFAULT_RUNTIME_ROOT)).toEqual([]);
  });

  it('a detached task seen from the host: maps, uid 100000, files it makes, no power over host root files, exec', async () => {
    const id = 'ctrd-userns-bg';
    const mounts = [
      `type=bind,src=${shared},dst=/shared,options=rbind:rw`,
      `type=bind,src=${rootOwned},dst=/root-owned,options=rbind:rw`,
    ].flatMap((m) => ['--mount', m]);
    const started = ctr(c, ['run', '-d', '--fifo-dir', c.fifoDir, ...MAPS, ...mounts, IMAGE, id, 'sleep', '300']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    try {
      const pid = taskPid(c, id);
      expect(pid).toBeGreaterThan(0);
      // minipod-oci made it: its state of the task (runc's state.json is not its format).
      const state = spawnSync(RUNTIME, ['--root', SHIM_DEFAULT_RUNTIME_ROOT, 'state', id], { encoding: 'utf8' });
      expect(state.status, state.stderr).toBe(0);
      expect(JSON.parse(state.stdout)).toMatchObject({ id, pid, status: 'running' });

      const map = (f: string): string => fs.readFileSync(`/proc/${pid}/${f}`, 'utf8').trim().split(/\s+/).join(' ');
      expect(map('uid_map')).toBe('0 100000 65536');
      expect(map('gid_map')).toBe('0 100000 65536');
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
      expect(status).toMatch(/^Gid:\s+100000\s+100000\s+100000\s+100000$/m);
      const userns = fs.readlinkSync(`/proc/${pid}/ns/user`);
      expect(userns).not.toBe(fs.readlinkSync('/proc/self/ns/user'));

      // exec joins the namespace as its root; the host's root-owned file stays out of reach.
      const script = 'id -u; readlink /proc/self/ns/user; touch /shared/made-inside; echo overwritten > /root-owned; exit 3';
      const exec = ctr(c, ['task', 'exec', '--fifo-dir', c.fifoDir, '--exec-id', 'e1', id, 'sh', '-c', script]);
      expect(exec.stdout).toBe(`0\n${userns}\n`);
      expect(exec.stderr).toMatch(/can't create \/root-owned: Permission denied/);
      expect(exec.code).toBe(3);
      const made = fs.statSync(path.join(shared, 'made-inside'));
      expect([made.uid, made.gid]).toEqual([100000, 100000]);
      expect(fs.readFileSync(rootOwned, 'utf8')).toBe("host root's\n");

      expect(ctr(c, ['task', 'kill', '-s', 'SIGKILL', id]).code).toBe(0);
      await waitStopped(c, id);
      const deleted = ctr(c, ['task', 'delete', id]);
      expect(deleted.code).toBe(0);
      expect(deleted.stderr).toMatch(/exit with non-zero exit code 137/);
      expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    } finally {
      ctr(c, ['task', 'delete', '-f', id]);
      ctr(c, ['container', 'delete', id]);
    }
    expect(fs.readdirSync(SHIM_DEFAULT_RUNTIME_ROOT)).toEqual([]);
  });
});
