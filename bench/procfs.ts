/** Reading memory and the process tree from /proc, for the memory-per-pod scenario. */
import fs from 'node:fs';

export interface Mem {
  /** kB, from /proc/PID/smaps_rollup. */
  rss: number;
  /** Proportional: shared pages divided among the processes that map them. */
  pss: number;
  /** Private_Clean + Private_Dirty: what would be freed if the process exited. */
  uss: number;
}

export const ZERO_MEM: Mem = { rss: 0, pss: 0, uss: 0 };

export function addMem(a: Mem, b: Mem): Mem {
  return { rss: a.rss + b.rss, pss: a.pss + b.pss, uss: a.uss + b.uss };
}

export function readMem(pid: number): Mem | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: field('Rss'), pss: field('Pss'), uss: field('Private_Clean') + field('Private_Dirty') };
}

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  args: string;
}

export function listProcs(): Proc[] {
  const out: Proc[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(name), ppid, comm, args });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/** `root` and everything below it. */
export function descendants(procs: Proc[], root: number): Proc[] {
  const byParent = new Map<number, Proc[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const self = procs.find((p) => p.pid === root);
  if (self) out.push(self);
  const walk = (pid: number): void => {
    for (const c of byParent.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}
