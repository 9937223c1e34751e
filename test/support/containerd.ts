/**
 * A private containerd for the tests (peers.md): its own root, state, socket and config in a
 * temp dir named `minipod-containerd-*` (so the suite's leak check sees any mount left under
 * it), the CRI plugin off, containers in the ctr namespace `minipod-ctrd` (so their cgroups,
 * `/minipod-ctrd/<id>`, are seen by the leak check too). `stop` kills what is left (tasks
 * through ctr, then containerd, then any shim of this instance), unmounts and removes the dir.
 *
 * `runcOnPath` makes a runtime containerd's `runc`: a `runc` symlink to it in `<dir>/bin`,
 * first on containerd's PATH, which its shims inherit. That is the only way containerd 1.6
 * runs a user-namespaced `ctr run --uidmap` task with another runtime: the task options ctr
 * sends for it (io_uid, io_gid) replace the container's runtime options, `--runc-binary` and
 * `--runc-root` included (containerd#11480, #11568), so the shim runs plain `runc` with its
 * default `--root /run/containerd/runc/<namespace>`, which `stop` removes when it is empty.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CTR_NAMESPACE = 'minipod-ctrd';
const SHIM_SOCKETS = '/run/containerd/s';
/** The shim's runc root when the task options name none (`runtimeRoot` below is not used then). */
export const SHIM_DEFAULT_RUNTIME_ROOT = `/run/containerd/runc/${CTR_NAMESPACE}`;

function listDir(dir: string): Set<string> | undefined {
  try {
    return new Set(fs.readdirSync(dir));
  } catch {
    return undefined;
  }
}

export interface Containerd {
  dir: string;
  /** ctr's fifos for task stdio (`--fifo-dir`), here rather than /run/containerd/fifo. */
  fifoDir: string;
  /** Shim sockets present before: the shims put theirs in /run/containerd/s whatever the state dir. */
  shimSocketsBefore: Set<string> | undefined;
  socket: string;
  /** runc's --root for the shim's runtime calls (`ctr run --runc-root`). */
  runtimeRoot: string;
  process: ChildProcess;
}

export interface CtrResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const haveContainerd = (): boolean =>
  ['containerd', 'ctr', 'containerd-shim-runc-v2'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);

export async function startContainerd(opts: { runcOnPath?: string } = {}): Promise<Containerd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-containerd-'));
  const env = { ...process.env };
  if (opts.runcOnPath) {
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.symlinkSync(opts.runcOnPath, path.join(dir, 'bin/runc'));
    env.PATH = `${path.join(dir, 'bin')}:${env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
  }
  const socket = path.join(dir, 'sock');
  const config = [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${socket}"`,
    '[ttrpc]',
    `  address = "${socket}.ttrpc"`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config.toml'), config);
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'a');
  const proc = spawn('containerd', ['-c', path.join(dir, 'config.toml'), '--log-level', 'warn'], { env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(socket)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      throw new Error(`containerd did not start: ${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    fifoDir: path.join(dir, 'fifo'),
    shimSocketsBefore: listDir(SHIM_SOCKETS),
    socket,
    runtimeRoot: path.join(dir, 'runc'),
    process: proc,
  };
}

export function ctr(c: Containerd, args: string[], opts: { timeoutMs?: number } = {}): CtrResult {
  const r = spawnSync('ctr', ['--address', c.socket, '-n', CTR_NAMESPACE, ...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status ?? 137, stdout: r.stdout, stderr: r.stderr };
}

/** Pids whose command line names this instance's socket (its shims), or their children. */
function shimPids(c: Containerd): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(c.dir)) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out.filter((p) => p !== c.process.pid);
}

export async function stopContainerd(c: Containerd): Promise<void> {
  for (const line of ctr(c, ['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
    ctr(c, ['task', 'kill', '-s', 'SIGKILL', line]);
    ctr(c, ['task', 'delete', '-f', line]);
  }
  for (const line of ctr(c, ['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(c, ['container', 'delete', line]);
  if (c.process.exitCode === null) {
    const exited = new Promise((r) => c.process.once('exit', r));
    c.process.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (c.process.exitCode === null) c.process.kill('SIGKILL');
  }
  for (const pid of shimPids(c)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    fs.rmdirSync(SHIM_DEFAULT_RUNTIME_ROOT);
  } catch {
    // absent, or a container of ours is left in it: the caller's test fails on that
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(c.dir))
    .sort()
    .reverse();
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  fs.rmSync(c.dir, { recursive: true, force: true });
  // The shims' sockets (named by a hash of address, namespace and id) that are new are ours;
  // /run/containerd itself goes when it was made by us and is empty.
  for (const name of listDir(SHIM_SOCKETS) ?? []) {
    if (!c.shimSocketsBefore?.has(name)) fs.rmSync(path.join(SHIM_SOCKETS, name), { force: true });
  }
  if (c.shimSocketsBefore === undefined) {
    for (const d of ['/run/containerd/runc', SHIM_SOCKETS, '/run/containerd']) {
      try {
        fs.rmdirSync(d);
      } catch {
        // not empty: someone else's
      }
    }
  }
}

/**
 * A docker archive of the busybox rootfs tarball, named `<name>:latest` (umoci makes an OCI
 * layout with the tarball as its one layer, skopeo saves it as ctr imports it).
 */
export function busyboxArchive(rootfsTar: string, work: string, name: string): string {
  const run = (cmd: string, args: string[]): void => void execFileSync(cmd, args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
  run('umoci', ['init', '--layout', 'oci']);
  run('umoci', ['new', '--image', 'oci:img']);
  run('umoci', ['raw', 'add-layer', '--image', 'oci:img', rootfsTar]);
  run('umoci', ['config', '--image', 'oci:img', '--config.cmd', 'sh', '--config.env', 'PATH=/bin:/sbin:/usr/bin:/usr/sbin']);
  const archive = path.join(work, 'image.tar');
  run('skopeo', ['copy', '-q', 'oci:oci:img', `docker-archive:${archive}:${name}:latest`]);
  return archive;
}
