/**
 * What a minipod run can leave on the host, read from the host itself: mounts, cgroups,
 * network namespaces, links, iptables rules and processes. Integration tests snapshot before
 * and compare after, so a test file that leaks fails even when its own assertions passed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface HostSnapshot {
  mounts: string[];
  cgroups: string[];
  netns: string[];
  links: string[];
  iptables: string[];
  processes: string[];
}

function safe(fn: () => string[]): string[] {
  try {
    return fn();
  } catch {
    return [];
  }
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

function cgroupDirs(root = '/sys/fs/cgroup'): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 3) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const full = path.join(dir, e.name);
      if (/minipod/i.test(e.name)) found.push(full);
      else walk(full, depth + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

export function snapshotHost(): HostSnapshot {
  return {
    mounts: safe(() =>
      fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => /minipod/i.test(l))
        .map((l) => l.split(' ')[4]!),
    ),
    cgroups: safe(() => cgroupDirs()),
    netns: safe(() =>
      run('ip', ['netns', 'list'])
        .split('\n')
        .filter((l) => /minipod/i.test(l)),
    ),
    links: safe(() =>
      run('ip', ['-o', 'link'])
        .split('\n')
        .filter((l) => /veth|minipod/i.test(l))
        .map((l) => l.split(':')[1]!.trim().split('@')[0]!),
    ),
    iptables: safe(() =>
      run('iptables-save', [])
        .split('\n')
        .filter((l) => /CNI|minipod/i.test(l) && !l.startsWith('#')),
    ),
    processes: safe(() =>
      run('ps', ['-eo', 'pid=,args='])
        .split('\n')
        .filter((l) => /catatonit -P|\/init -P|helper-main\.js|minipod-daemon|daemon run --ready-fd/.test(l))
        .map((l) => l.trim()),
    ),
  };
}

/**
 * The daemon and its warm pool (helpers booted ahead of need, `--nice` in their command line)
 * are not any pod's: they stay between pods and go when the daemon stops (each test file's
 * environment stops its daemon, and the per-file check sees everything).
 */
export function isDaemonInfrastructure(leak: string): boolean {
  return /^processes: \d+ (minipod-daemon|\S*node \S*helper-main\.js --nice)/.test(leak);
}

/** Items present now that were not in `before`, by kind; empty when the host is clean. */
export function leaksSince(before: HostSnapshot, after: HostSnapshot = snapshotHost()): string[] {
  const out: string[] = [];
  for (const kind of Object.keys(after) as (keyof HostSnapshot)[]) {
    const had = new Set(before[kind]);
    for (const item of after[kind]) if (!had.has(item)) out.push(`${kind}: ${item}`);
  }
  return out;
}

/** Polls until nothing new is left (teardown may finish a moment after a command returns). */
export async function expectNoLeaks(before: HostSnapshot, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let leaks = leaksSince(before);
  while (leaks.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    leaks = leaksSince(before);
  }
  if (leaks.length > 0) throw new Error(`minipod left things on the host:\n  ${leaks.join('\n  ')}`);
}
