/**
 * Did the bench leave anything behind? The integration tests' host snapshot
 * (test/support/host-leaks.ts) compares the whole host, but others may run pods on this
 * machine while the bench runs, so its differences are split: what is provably the bench's
 * (mentions the bench's temp dir or its `mpb-` pod names, or a process descending from one of
 * its commands) fails the run; the rest is reported as unattributed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type HostSnapshot, leaksSince, snapshotHost } from '../test/support/host-leaks.js';
import { trySh } from './exec.js';

export { snapshotHost, type HostSnapshot };

export const POD_PREFIX = 'mpb-';

/** The process or one of its ancestors has the bench dir in its command line or environment. */
function isOurs(pid: number, root: string): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 20; hops++) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const env = fs.readFileSync(`/proc/${p}/environ`, 'utf8');
      if (cmd.includes(root) || env.includes(root)) return true;
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** minipod pod cgroups named like ours, in any hierarchy: /sys/fs/cgroup/<h>/<parent>/mpb-*. */
function ourCgroups(): string[] {
  const out: string[] = [];
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const hier = path.join('/sys/fs/cgroup', h);
    let parents: string[] = [];
    try {
      parents = fs.readdirSync(hier).filter((d) => /minipod/i.test(d));
    } catch {
      continue;
    }
    for (const parent of parents) {
      try {
        for (const d of fs.readdirSync(path.join(hier, parent))) if (d.startsWith(POD_PREFIX)) out.push(path.join(hier, parent, d));
      } catch {
        // Not a directory.
      }
    }
  }
  return out;
}

export interface LeakReport {
  ours: string[];
  unattributed: string[];
}

export function checkLeaks(before: HostSnapshot, root: string): LeakReport {
  const ours: string[] = [];
  const unattributed: string[] = [];
  for (const leak of leaksSince(before, snapshotHost())) {
    const [kind, ...rest] = leak.split(': ');
    const item = rest.join(': ');
    const mine = kind === 'processes' ? isOurs(Number.parseInt(item, 10), root) : item.includes(root) || item.includes(POD_PREFIX);
    (mine ? ours : unattributed).push(leak);
  }
  for (const cg of ourCgroups()) if (!ours.some((l) => l.includes(cg))) ours.push(`cgroups: ${cg}`);
  for (const l of trySh('iptables-save').split('\n')) if (l.includes(POD_PREFIX)) ours.push(`iptables: ${l}`);
  return { ours, unattributed };
}
