/**
 * A full or read-only run dir (/run/minipod) or lib dir (/var/lib/minipod), as a small tmpfs
 * mounted on this test's own private dirs (never the host's): `minipod run` fails with one
 * line naming the path and the errno, a hint, a non-zero exit; no pod is half-made (no state,
 * cgroup, process or temp file of it); and once there is room again the same pod runs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { busyboxPod, isRoot, makeTestEnv, minipodSync, writeManifest, type TestEnv } from '../support/minipod.js';

const noNetwork = { metadata: { annotations: { 'minipod.io/network': 'none' } } };

function mountTmpfs(dir: string, size: string): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
}

/** Fills the filesystem of `dir` to the last block. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=64k'], { stdio: 'ignore' });
  } catch {
    // dd stops with ENOSPC: that is the point
  }
  return file;
}

/** Files and dirs whose name says they are half-written (temp files of atomic writes). */
function tempFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (/\.tmp$|\.tmp\.|\.partial$/.test(e.name)) out.push(p);
      if (e.isDirectory() && !p.includes('/images/')) walk(p);
    }
  };
  walk(dir);
  return out;
}

function cgroupsOf(t: TestEnv, pod: string): string[] {
  return ['memory', 'pids', 'unified', '']
    .map((h) => path.join('/sys/fs/cgroup', h, t.env.MINIPOD_CGROUP_PARENT!, pod))
    .filter((d) => fs.existsSync(d));
}

let current: { t: TestEnv; mounts: string[] } | undefined;
afterEach(() => {
  if (!current) return;
  const { t, mounts } = current;
  current = undefined;
  for (const m of [...mounts].reverse().slice(0, -1)) execFileSync('umount', ['-l', m]);
  fs.rmSync(path.join(mounts[0]!, 'filler'), { force: true });
  try {
    execFileSync('mount', ['-o', 'remount,rw', mounts[0]!], { stdio: 'ignore' });
  } catch {
    // rw already
  }
  minipodSync(t, ['daemon', 'stop'], { timeoutMs: 60_000 });
  execFileSync('umount', ['-l', mounts[0]!]);
  t.cleanup();
});

describe.skipIf(!isRoot)('a full or read-only state dir (root)', () => {
  for (const which of ['run', 'lib'] as const) {
    for (const how of ['full', 'read-only'] as const) {
      it(`${which} dir ${how}: one line naming the path, exit 125, nothing half-made, then runs once there is room`, () => {
        const t = makeTestEnv(`disk-${which}`);
        const dir = which === 'run' ? t.env.MINIPOD_RUN_DIR! : t.env.MINIPOD_LIB_DIR!;
        mountTmpfs(dir, which === 'run' ? '4m' : '64m');
        current = { t, mounts: [dir] };
        const manifest = writeManifest(t, 'pod.json', busyboxPod('disk', [['c', 'echo hello-disk']], noNetwork));
        if (which === 'run') {
          // A first run with room: the daemon starts and its files exist; the pod then needs more.
          const first = minipodSync(t, ['run', manifest]);
          expect(first.stdout, first.stderr).toMatch(/hello-disk/);
          expect(first.code).toBe(0);
        }
        // The lib dir is full (or read-only) before the image is unpacked into it: a pull on a full disk.

        const filler = how === 'full' ? fill(dir) : undefined;
        // The daemon keeps daemon.log open for writing (no remount ro under it): the run dir's
        // pods/ is made read-only with a bind mount; the lib dir as a whole.
        const roDir = which === 'run' ? path.join(dir, 'pods') : dir;
        if (how === 'read-only' && which === 'run') {
          execFileSync('mount', ['--bind', roDir, roDir]);
          current.mounts.push(roDir);
        }
        if (how === 'read-only') execFileSync('mount', ['-o', which === 'run' ? 'remount,bind,ro' : 'remount,ro', roDir]);
        const r = minipodSync(t, ['run', manifest]);
        expect(r.code, r.stdout + r.stderr).toBe(125);
        const errno = how === 'full' ? 'ENOSPC' : 'EROFS';
        const lines = r.stderr.trim().split('\n');
        expect(lines[0]).toMatch(new RegExp(`^minipod: host: .*${dir.replace(/[.]/g, '\\.')}\\S*: ${errno}$`));
        expect(lines.slice(1).every((l) => l.startsWith('minipod: check: '))).toBe(true);
        expect(r.stderr).not.toMatch(/internal error/);

        // Nothing of the pod: no state, no cgroup, no temp file.
        expect(fs.existsSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods', 'disk'))).toBe(false);
        expect(cgroupsOf(t, 'disk')).toEqual([]);
        expect(tempFiles(dir)).toEqual([]);
        expect(minipodSync(t, ['ps', '-a']).stdout).not.toMatch(/^disk\s/m);

        // Room again: the same pod runs (no stale lock, record or lease in the way).
        if (filler) fs.rmSync(filler);
        else execFileSync('mount', ['-o', which === 'run' ? 'remount,bind,rw' : 'remount,rw', roDir]);
        const again = minipodSync(t, ['run', manifest]);
        expect(again.stdout, again.stderr).toMatch(/hello-disk/);
        expect(again.code).toBe(0);
      });
    }
  }
});
