/**
 * podman 4.3 with private configuration and storage (vfs: no mounts of its own, network none)
 * and runc's settings for this host (/work/shared/notes/peers.md), for tests that drive
 * minipod-oci through podman and conmon; and a cleanup of what podman leaves outside its dirs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PODMAN_IMAGE = 'localhost/minipod-oci-busybox:latest';
export const hasPodman = spawnSync('podman', ['--version']).status === 0;

export interface PodmanEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** podman with these settings; `runtime` is a path (`--runtime`) or runc. */
  podman(args: string[], options?: { timeoutMs?: number }): { code: number; stdout: string; stderr: string };
  cleanup(): void;
}

/** Outside the private dirs, podman creates these on first use (peers.md). */
const HOST_PATHS = ['/run/containers', '/run/libpod', '/var/lib/containers'];

function libpodCgroups(): string[] {
  return fs
    .readdirSync('/sys/fs/cgroup')
    .map((h) => path.join('/sys/fs/cgroup', h, 'libpod_parent'))
    .filter((d) => fs.existsSync(d));
}

export function makePodmanEnv(name: string, runtime: string): PodmanEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `minipod-podman-${name}-`));
  const before = { paths: HOST_PATHS.filter((p) => fs.existsSync(p)), cgroups: libpodCgroups().length > 0 };
  const conf = path.join(dir, 'containers.conf');
  const storage = path.join(dir, 'storage.conf');
  fs.writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:4096", "nproc=1024:4096"]',
      '[engine]',
      `runtime = "${path.basename(runtime)}"`,
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      'lock_type = "file"',
      `tmp_dir = "${path.join(dir, 'tmp')}"`,
      `[engine.runtimes]`,
      `${path.basename(runtime)} = ["${runtime}"]`,
      '[network]',
      `network_config_dir = "${path.join(dir, 'networks')}"`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    storage,
    ['[storage]', 'driver = "vfs"', `runroot = "${path.join(dir, 'runroot')}"`, `graphroot = "${path.join(dir, 'graph')}"`, ''].join('\n'),
  );
  const env = { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
  const podman: PodmanEnv['podman'] = (args, options = {}) => {
    const r = spawnSync('podman', args, { env, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
    return { code: r.status ?? 128 + 9, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  return {
    dir,
    env,
    podman,
    cleanup() {
      podman(['rm', '-a', '-f', '-t', '0']);
      podman(['system', 'reset', '-f']);
      for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
        const mp = line.split(' ')[4];
        if (mp && mp.startsWith(dir + '/')) spawnSync('umount', ['-l', mp]);
      }
      if (!before.cgroups) for (const d of libpodCgroups()) spawnSync('find', [d, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
      for (const p of HOST_PATHS) if (!before.paths.includes(p)) fs.rmSync(p, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
