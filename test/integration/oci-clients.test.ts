/**
 * minipod-oci's client subcommands for real (root), on busybox bundles: exec (its exit code,
 * the container's namespaces and cgroup, flags and --process, --detach with --pid-file), the
 * console socket of create and exec (the pty master received over SCM_RIGHTS, as conmon and
 * containerd's shim receive it), ps, pause/resume (the kernel stops the processes), update
 * (limits the kernel enforces).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxSyscall } from '../../src/syscall/linux.js';
import { isRoot, waitFor } from '../support/minipod.js';
import { MINIPOD_OCI, makeOciEnv, type OciEnv } from '../support/oci.js';

const sys = new LinuxSyscall();

function status(env: OciEnv, id: string): string {
  const r = env.oci(['state', id]);
  return r.code === 0 ? (JSON.parse(r.out) as { status: string }).status : 'gone';
}

/** Runs minipod-oci with a console socket we listen on; returns the pty master it sent. */
async function withConsole(env: OciEnv, args: string[]): Promise<{ master: number; name: string; code: number; stderr: string }> {
  const sock = path.join(env.dir, `console-${Date.now()}.sock`);
  const listener = sys.listenUnixSocket(sock);
  try {
    const child = spawn(MINIPOD_OCI, ['--root', env.root, ...args.flatMap((a) => (a === '@SOCK' ? [sock] : [a]))], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 255)));
    // accept blocks this thread: the runtime connects before its process runs.
    const conn = sys.acceptConnection(listener);
    const got = sys.receiveFds(conn, 4096);
    sys.close(conn);
    expect(got.fds).toHaveLength(1);
    return { master: got.fds[0]!, name: got.data.toString(), code: await exited, stderr };
  } finally {
    sys.close(listener);
  }
}

/** Reads a blocking pty master until every slave is closed (EIO). */
function drain(master: number): string {
  const buf = Buffer.alloc(4096);
  let out = '';
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(master, buf);
    } catch {
      break;
    }
    if (n === 0) break;
    out += buf.subarray(0, n).toString();
  }
  sys.close(master);
  return out;
}

describe.skipIf(!isRoot)('minipod-oci client subcommands (root)', () => {
  let env: OciEnv;
  let rootfs: string;
  const id = 'clients';

  beforeAll(() => {
    env = makeOciEnv('clients');
    // A counter the pause test watches from the host, through the bundle's rootfs.
    // The loop waits with the shell's own `read -t` (no fork): the pids.max test below must be
    // the only one to fork, or the loop's shell dies of a refused fork and takes the container.
    const b = env.bundle(id, [
      'sh',
      '-c',
      'mkfifo /tmp/tick; i=0; while true; do i=$((i+1)); echo $i > /tmp/count; read -t 0.05 x <> /tmp/tick; done',
    ]);
    rootfs = path.join(b, 'rootfs');
    expect(env.oci(['create', '--bundle', b, id]).code).toBe(0);
    expect(env.oci(['start', id]).code).toBe(0);
  });
  afterAll(() => env?.cleanup());

  it('exec: the exit code, in the container namespaces and cgroup, flags over the container process', () => {
    const r = env.oci([
      'exec',
      '--env',
      'FOO=bar',
      '--cwd',
      '/tmp',
      '--user',
      '1000:1001',
      id,
      'sh',
      '-c',
      'cat /proc/1/comm; echo $FOO $(pwd) $(id -u):$(id -g); cat /proc/self/cgroup | grep memory; exit 4',
    ]);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('sh');
    expect(lines[1]).toBe('bar /tmp 1000:1001');
    // The container's cgroup namespace: its own cgroup is the root it sees.
    expect(lines[2]).toMatch(/:memory:\/$/);
    expect(r.code).toBe(4);
  });

  it('exec --process: a process.json as conmon writes it', () => {
    const file = path.join(env.dir, 'process.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        args: ['sh', '-c', 'echo $X; exit 0'],
        env: ['PATH=/bin', 'X=from-json'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        terminal: false,
      }),
    );
    const r = env.oci(['exec', '--process', file, id]);
    expect(r.out).toBe('from-json\n');
    expect(r.code).toBe(0);
  });

  it('exec --detach --pid-file: returns at once, the pid file names the running process', async () => {
    const pidFile = path.join(env.dir, 'exec.pid');
    const r = env.oci(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '30']);
    expect(r.code, r.out).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u000030\u0000');
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toMatch(/:memory:\/minipod-oci\/clients$/m);
    const ps = JSON.parse(env.oci(['ps', '--format', 'json', id]).out) as number[];
    expect(ps).toContain(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('exec process gone', () => !JSON.parse(env.oci(['ps', '--format', 'json', id]).out).includes(pid));
  });

  it('exec refuses what it cannot run, with the texts clients match', () => {
    const missing = env.oci(['exec', id, 'no-such-program']);
    expect(missing.code).not.toBe(0);
    expect(missing.out).toContain('executable file not found in $PATH');
    expect(env.oci(['exec', 'no-such-container', 'true']).out).toContain('container no-such-container does not exist');
    expect(env.oci(['exec', '--user', 'nobody', id, 'true']).out).toContain('--user');
  });

  it('exec --tty --console-socket: the master comes over the socket, the process has the slave as its terminal', async () => {
    const file = path.join(env.dir, 'tty.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        args: ['sh', '-c', 'tty; stty size; exit 5'],
        env: ['PATH=/bin'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        terminal: true,
        consoleSize: { height: 33, width: 101 },
      }),
    );
    const r = await withConsole(env, ['exec', '--tty', '--console-socket', '@SOCK', '--process', file, id]);
    expect(r.name).toMatch(/^\/dev\/pts\/\d+$/);
    const out = drain(r.master);
    expect(out.split('\r\n')).toEqual([r.name, '33 101', '']);
    expect(r.code, r.stderr).toBe(5);
  });

  it('create --console-socket: the container init gets a terminal of its own devpts, sized from consoleSize', async () => {
    const b = env.bundle('tty', ['sh', '-c', 'tty; stty size; test -t 1 && echo is-a-tty'], (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 40, width: 120 };
    });
    const r = await withConsole(env, ['create', '--bundle', b, '--console-socket', '@SOCK', 'tty']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.name).toBe('/dev/pts/0');
    expect(env.oci(['start', 'tty']).code).toBe(0);
    expect(drain(r.master).split('\r\n')).toEqual(['/dev/pts/0', '40 120', 'is-a-tty', '']);
    await waitFor('stopped', () => status(env, 'tty') === 'stopped');
    expect(env.oci(['delete', 'tty']).code).toBe(0);
    // A terminal without a socket, a socket without a terminal: refused, nothing made.
    expect(env.oci(['create', '--bundle', b, 'tty2']).out).toContain('--console-socket');
    expect(status(env, 'tty2')).toBe('gone');
  });

  it('ps: the pids of the container cgroup, as JSON and as ps -ef lines', () => {
    const init = (JSON.parse(env.oci(['state', id]).out) as { pid: number }).pid;
    const pids = JSON.parse(env.oci(['ps', '--format', 'json', id]).out) as number[];
    expect(pids).toContain(init);
    // Only the loop's shell runs (it forks nothing after its mkfifo).
    const table = env.oci(['ps', id]).out.trim().split('\n');
    expect(table[0]).toMatch(/^UID\s+PID\s+PPID/);
    expect(table.some((l) => Number(l.trim().split(/\s+/)[1]) === init)).toBe(true);
    for (const line of table.slice(1)) expect(line).toMatch(/sh -c mkfifo/);
    expect(env.oci(['ps', id, '-o', 'pid,comm']).out.split('\n')[0]).toMatch(/PID\s+COMMAND/);
  });

  it('pause stops every process until resume; state says paused', async () => {
    const count = (): number => Number(fs.readFileSync(path.join(rootfs, 'tmp/count'), 'utf8'));
    await waitFor('counting', () => count() > 0);
    expect(env.oci(['pause', id]).code).toBe(0);
    expect(status(env, id)).toBe('paused');
    const frozen = count();
    await new Promise((r) => setTimeout(r, 400));
    expect(count()).toBe(frozen);
    expect(env.oci(['exec', id, 'true']).out).toContain('paused');
    expect(env.oci(['pause', id]).out).toContain('container not running');
    expect(env.oci(['resume', id]).code).toBe(0);
    expect(status(env, id)).toBe('running');
    await waitFor('counting again', () => count() > frozen);
    expect(env.oci(['resume', id]).out).toContain('container not paused');
  });

  it('update: new limits in the cgroup, enforced (a fork beyond pids.max fails)', () => {
    const cg = (controller: string, file: string): string =>
      fs.readFileSync(`/sys/fs/cgroup/${controller}/minipod-oci/${id}/${file}`, 'utf8').trim();
    expect(env.oci(['update', '--memory', '64m', '--pids-limit', '50', id]).code).toBe(0);
    expect(cg('memory', 'memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(cg('pids', 'pids.max')).toBe('50');
    const r = spawnSync(MINIPOD_OCI, ['--root', env.root, 'update', '--resources', '-', id], {
      input: JSON.stringify({ pids: { limit: 4 }, cpu: { quota: 20000, period: 100000 } }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(cg('pids', 'pids.max')).toBe('4');
    expect(cg('cpu', 'cpu.cfs_quota_us')).toBe('20000');
    // The loop's shell and the exec'd shell: its third sleep is refused.
    const forks = env.oci(['exec', id, 'sh', '-c', 'for i in 1 2 3 4 5 6; do sleep 5 & done; wait']);
    expect(forks.out).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(env.oci(['update', '--resources', path.join(env.dir, 'nope.json'), id]).out).toContain('nope.json');
    expect(env.oci(['update', '--memory', 'lots', id]).out).toContain('--memory');
  });

  it('exec in a stopped container: container not running', async () => {
    expect(env.oci(['kill', id, 'KILL']).code).toBe(0);
    await waitFor('stopped', () => status(env, id) === 'stopped');
    expect(env.oci(['exec', id, 'true']).out).toContain('container not running');
    expect(env.oci(['delete', id]).code).toBe(0);
  });
});
