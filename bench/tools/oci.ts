/**
 * runc and crun: one OCI bundle on the unpacked busybox rootfs (shared by both, read-only root
 * so neither can change it for the other), `runtime run` to the end.
 *
 * crun 1.8 refuses this hybrid-cgroup host ("drop all controllers from cgroupv2"); it runs with
 * its v1 driver in a private mount namespace where /sys/fs/cgroup/unified is unmounted
 * (/work/shared/notes/peers.md). That wrapper (unshare + sh + umount) is measured on its own
 * as "crun wrapper" so crun's own time can be read off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Timed, expectRan, run, sh } from '../exec.js';

export interface Bundle {
  dir: string;
  rootfs: string;
}

/** `runc spec` gives the default namespaces (pid, net, ipc, uts, mnt) and cgroups; we set argv. */
export function makeBundle(root: string, rootfsDir: string, name: string, args: string[]): Bundle {
  const dir = path.join(root, 'bundles', name);
  fs.mkdirSync(dir, { recursive: true });
  sh(`cd '${dir}' && runc spec`);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
  };
  config.process.terminal = false;
  config.process.args = args;
  config.root = { path: rootfsDir, readonly: true };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return { dir, rootfs: rootfsDir };
}

export async function runcRun(b: Bundle, id: string, marker: string): Promise<Timed> {
  const r = await run('runc', ['run', '--bundle', b.dir, id]);
  expectRan('runc', r, marker);
  return r;
}

const CRUN_WRAP = 'umount /sys/fs/cgroup/unified && exec "$@"';

export async function crunRun(b: Bundle, id: string, marker: string): Promise<Timed> {
  const r = await run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', CRUN_WRAP, 'sh', 'crun', 'run', '--bundle', b.dir, id]);
  expectRan('crun', r, marker);
  return r;
}

/** The wrapper alone, exec'ing /bin/true instead of crun. */
export async function crunWrapper(): Promise<Timed> {
  const r = await run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', CRUN_WRAP, 'sh', '/bin/true']);
  if (r.code !== 0) throw new Error(`crun wrapper failed: ${r.stderr}`);
  return r;
}

export function ociVersions(): { runc: string; crun: string } {
  const first = (s: string): string => s.split('\n')[0]!.trim();
  return { runc: first(sh('runc --version')), crun: first(sh('crun --version')) };
}

/**
 * State dirs the runtimes create on first use (runc's and crun's, util-linux's utab dir from
 * the wrapper's umount). Removed after the bench if they were new and are empty again.
 */
export const RUNTIME_DIRS = ['/run/runc', '/run/crun', '/run/mount'];

export function runtimeDirsBefore(): Set<string> {
  return new Set(RUNTIME_DIRS.filter((d) => fs.existsSync(d)));
}

export function removeNewRuntimeDirs(before: Set<string>): string[] {
  const removed: string[] = [];
  for (const d of RUNTIME_DIRS) {
    if (before.has(d) || !fs.existsSync(d)) continue;
    try {
      fs.rmdirSync(d);
      removed.push(d);
    } catch {
      // Not empty: something still uses it.
    }
  }
  return removed;
}

export function runtimeDirsLeft(before: Set<string>): string[] {
  return RUNTIME_DIRS.filter((d) => !before.has(d) && fs.existsSync(d));
}
