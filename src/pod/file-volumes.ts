/**
 * configMap, secret, downwardAPI and projected volumes on the host, laid out as kubelet's
 * atomic writer does (pkg/volume/util/atomic_writer.go):
 *
 *   <volume>/..2026_12_01_06_50_00.1234567890/   the files, with their modes
 *   <volume>/..data -> ..2026_12_01_06_50_00.1234567890
 *   <volume>/<key>  -> ..data/<key>               one link per top-level name
 *
 * so that a program that watches `..data` sees the same thing as on Kubernetes. Secret and
 * projected volumes are a tmpfs of their own (kubelet's memory-backed volume): their content is
 * never written to a disk. The plan is pure data; writing it is the one step with I/O.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PodSpec, VolumeSource } from '../manifest/types.js';
import { type DownwardValues, resolveDownward } from '../plan/downward.js';
import type { Syscall } from '../syscall/syscall.js';
import { mountTmpfs } from './host-mounts.js';

type FilesSource = Extract<VolumeSource, { kind: 'files' }>;

export interface FileVolumePlan {
  /** `..<UTC timestamp>.<random>`: the folder `..data` points to. */
  dataDir: string;
  files: { path: string; mode: number; content: Buffer }[];
  /** Top-level names, each a symlink to `..data/<name>`. */
  links: string[];
  /** Bytes of a tmpfs that holds it all, or undefined for a folder on disk. */
  tmpfsBytes?: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Go's `..2006_01_02_15_04_05.` layout, then os.MkdirTemp's random digits. */
export function dataDirName(now: Date, random: string): string {
  const d = `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}`;
  const t = `${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  return `..${d}_${t}.${random}`;
}

export function planFileVolume(source: FilesSource, pod: PodSpec, values: DownwardValues, now: Date, random: string): FileVolumePlan {
  const files = source.files.map((f) => ({
    path: f.path,
    mode: f.mode,
    content: f.data !== undefined ? Buffer.from(f.data, 'base64') : Buffer.from(resolveDownward(f.from!, pod, values), 'utf8'),
  }));
  const links = [...new Set(files.map((f) => f.path.split('/')[0]!))].sort();
  const plan: FileVolumePlan = { dataDir: dataDirName(now, random), files, links };
  if (source.tmpfs) {
    // Room for the files and their folders; a tmpfs is charged to the pod's memory as it fills.
    const bytes = files.reduce((n, f) => n + Math.ceil(f.content.length / 4096) * 4096 + 4096, 0);
    plan.tmpfsBytes = bytes + 1024 * 1024;
  }
  return plan;
}

/** Writes the plan into `dir` (a fresh folder no container has seen yet). */
export function writeFileVolume(sys: Syscall, dir: string, plan: FileVolumePlan): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (plan.tmpfsBytes !== undefined) mountTmpfs(sys, dir, `mode=0755,size=${plan.tmpfsBytes}`);
  const data = path.join(dir, plan.dataDir);
  fs.mkdirSync(data, { mode: 0o755 });
  for (const f of plan.files) {
    const target = path.join(data, f.path);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.writeFileSync(target, f.content, { mode: f.mode, flag: 'wx' });
    // The mode as asked, not as the umask leaves it.
    fs.chmodSync(target, f.mode);
  }
  fs.symlinkSync(plan.dataDir, path.join(dir, '..data'));
  for (const name of plan.links) fs.symlinkSync(path.join('..data', name), path.join(dir, name));
}

export function randomSuffix(): string {
  return String(crypto.randomInt(1_000_000_000, 4_294_967_295));
}
