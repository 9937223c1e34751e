/** What scenarios produce and the report and JSON consume. */
import type { Summary } from './stats.js';
import type { DaemonControl } from './tools/daemon.js';
import type { MinipodEnv } from './tools/minipod.js';
import type { Bundle } from './tools/oci.js';
import type { PodmanEnv } from './tools/podman.js';

export interface Row {
  scenario: string;
  /** Stable id, e.g. `s1.minipod-none`; ratios refer to rows by id. */
  id: string;
  tool: string;
  metric: string;
  unit: 'ms' | 'kB';
  samples: number[];
  summary: Summary;
  note?: string;
}

export interface RatioSpec {
  label: string;
  ours: string;
  peer: string;
  /** Issue 7's bound on the ratio, when it sets one. */
  target?: number;
}

export interface MemorySample {
  tool: string;
  /** Per pod, kB. */
  rss: number;
  pss: number;
  uss: number;
  /**
   * The parts of the per-pod figure: processes (pid > 0), or a share of one that is not the
   * pod's alone (pid 0, e.g. the daemon's growth divided by the pods running).
   */
  processes: { pid: number; comm: string; rss: number; pss: number; uss: number }[];
}

/** Memory minipod holds whatever the number of pods (the daemon, its warm pool), kB. */
export interface FixedCost {
  what: string;
  rss: number;
  pss: number;
  uss: number;
  /** Processes summed (pool helpers: one per helper). */
  processes: number;
  /** Where it was sampled. */
  when: string;
}

/** Trace-based breakdown of one scenario-1 row. */
export interface Breakdown {
  /** Row id, e.g. `s1.minipod-none`. */
  id: string;
  title: string;
  /** Measured runs, and how many of them had the step sequence shown (the most common one). */
  runs: number;
  used: number;
  steps: BreakdownStep[];
}

export interface BreakdownStep {
  step: string;
  /** Median ms spent in this step (delta from the previous trace point). */
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
}

export interface Context {
  root: string;
  rounds: number;
  warmup: number;
  image: string;
  rootfsDir: string;
  minipod: MinipodEnv;
  /** The minipod daemon: which variant runs, settle, stop (tools/daemon.ts). */
  daemon: DaemonControl;
  podman?: PodmanEnv;
  bundles: { s1: Bundle };
  log(message: string): void;
  /** Failures that a retry of the same round got past (others' activity on a shared host). */
  retried: string[];
  /** Fixed memory of minipod (daemon, warm pool), sampled by scenarios 3 and 4. */
  fixed: FixedCost[];
}

/**
 * Runs one measurement; on failure records it, lets `recover` clean up and tries once more.
 * A second failure propagates: a tool that fails twice in a row is broken, not unlucky.
 */
export async function withRetry<T>(ctx: Context, what: string, fn: () => Promise<T>, recover?: () => Promise<void>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const msg = `${what}: ${(err as Error).message.split('\n').slice(0, 3).join(' | ')}`;
    ctx.retried.push(msg);
    ctx.log(`retrying after failure: ${msg}`);
    await recover?.();
    return fn();
  }
}
