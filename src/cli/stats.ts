/**
 * `minipod stats [POD] [--no-stream] [--format json]`: the pods come in as data (the caller
 * looks them up in the state dir), so this only samples, renders and repeats.
 */
import type { CgroupManager } from '../cgroups/manager.js';
import { collectPodStats, renderStatsTable, statsRows, type PodStatsSample, type StatsRow } from '../cgroups/stats.js';

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
