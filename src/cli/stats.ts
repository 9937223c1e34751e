/**
 * `minipod stats [POD] [--no-stream] [--format json]`: the pods come in as data (the caller
 * looks them up in the state dir), so this only samples, renders and repeats.
 */
import type { CgroupManager } from '../cgroups/manager.js';
import { collectPodStats, statsRows, type PodStatsSample, type StatsRow } from '../cgroups/stats.js';

export interface StatsPod {
  name: string;
  /** Containers whose cgroup exists (running ones). */
  containers: string[];
}

export interface StatsCommandOptions {
  manager: CgroupManager;
  /** Re-read before every refresh, so pods that start or stop show up. */
  pods: () => StatsPod[];
  noStream?: boolean;
  format?: 'table' | 'json';
  /** Between the two samples of --no-stream and between refreshes, ms (podman: 1 s). */
  intervalMs?: number;
  write?: (text: string) => void;
  /** Stops streaming (Ctrl-C). */
  signal?: AbortSignal;
}

const CLEAR = '\x1b[2J\x1b[H';

export async function statsCommand(opts: StatsCommandOptions): Promise<void> {
  const write = opts.write ?? ((t: string) => void process.stdout.write(t));
  const interval = opts.intervalMs ?? 1000;
  const sample = (): PodStatsSample[] => {
    const out: PodStatsSample[] = [];
    for (const p of opts.pods()) {
      try {
        out.push(collectPodStats(opts.manager, p.name, p.containers));
      } catch {
        // The pod stopped between listing and reading: leave it out of this refresh.
      }
    }
    return out;
  };
  const rows = (prev: PodStatsSample[], cur: PodStatsSample[]): StatsRow[] =>
    cur.flatMap((s) =>
      statsRows(
        prev.find((p) => p.pod === s.pod),
        s,
      ),
    );
  const render = (r: StatsRow[]): string => (opts.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : `${renderStatsTable(r)}\n`);

  // CPU % needs two samples, even for a single print.
  let prev = sample();
  for (;;) {
    if (!(await wait(interval, opts.signal))) return;
    const cur = sample();
    const text = render(rows(prev, cur));
    if (opts.noStream) {
      write(text);
      return;
    }
    write(opts.format === 'json' ? text : CLEAR + text);
    prev = cur;
  }
}

/** Resolves false when aborted. */
function wait(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** docker/podman's HumanSize: decimal units, four significant digits (`12.29MB`). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

export function renderStatsTable(rows: StatsRow[]): string {
  const header = ['POD', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS'];
  const lines = rows.map((r) => [
    r.pod,
    r.container === '' ? '(pod)' : r.container,
    r.cpuPercent === null ? '--' : `${r.cpuPercent.toFixed(2)}%`,
    `${humanSize(r.memUsageBytes)} / ${humanSize(r.memLimitBytes)}`,
    `${r.memPercent.toFixed(2)}%`,
    String(r.pids),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines]
    .map((cols) =>
      cols
        .map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]! + 2)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}
