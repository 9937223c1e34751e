/**
 * How many sandboxes the warm pool holds, and when it boots them: decided from when pods came.
 *
 * The pool (./warm-pool.ts) makes a pod's start faster by booting its Node helpers ahead of
 * need, at a price: ~250 MB RSS (daemon and pool) held whether pods come or not, and booting
 * that competes for the CPUs with the pods it is meant to serve. So the pool follows demand
 * (docs/performance.md has the measurements behind each rule):
 *
 * - **Empty until pods come**: a daemon that has not started a pod boots nothing.
 * - **Filled after a pod starts**, once pods have stopped starting and stopping for `quietMs`
 *   (booting Node, even niced, slowed a teardown on 2 CPUs by ~40 ms); a pod still starting
 *   holds the refill back however long its start takes.
 * - **While pods come back to back** (the last two started less than `burstGapMs` apart), a
 *   refill at once when a pod claims a sandbox (or finds none): sized to the pods that come,
 *   it boots what the next pod would otherwise boot on its own path, and that pod waits for it
 *   if it is still booting (./warm-pool.ts, claim). Otherwise the refill waits until no pod has
 *   started or stopped for `burstGapMs`.
 * - **Drained** `drainAfterMs` after the last pod start (or `daemon settle`): a host that starts
 *   a pod an hour holds nothing pooled between them.
 * - **Sized to the pods that come**: a sandbox gets as many pooled conmons (conmon mode) or
 *   container helpers (daemon mode) as the largest of the last `HISTORY_STARTS` pods could use,
 *   1 until a bigger pod comes, at most `perSandbox`. Each is one or two Node boots (~33 ms of
 *   CPU each); a one-container pod that claims a sandbox of 3 leaves 2 unused, booted for nothing
 *   on a CPU the next pod needs, and held in memory while idle.
 *
 * Pure: the daemon feeds it what happened and when (./pool-driver.ts acts on the answer).
 */

export interface PoolPolicyOptions {
  /** Most sandboxes to keep (`--warm`, MINIPOD_WARM_SANDBOXES); 0 disables the pool. */
  max: number;
  /** Refill once no pod has started or stopped for this long (ms). */
  quietMs: number;
  /** Two pod starts closer than this are back to back; the refill then waits this long (ms). */
  burstGapMs: number;
  /** Empty the pool this long after the last pod start or `daemon settle` (ms). */
  drainAfterMs: number;
  /** Most containers a sandbox is booted for (pooled conmons or container helpers). */
  perSandbox: number;
}

export const DEFAULT_POOL_POLICY: Omit<PoolPolicyOptions, 'max'> = {
  quietMs: 250,
  burstGapMs: 1000,
  drainAfterMs: 30_000,
  // Enough for the usual app + sidecar(s) pod.
  perSandbox: 3,
};

/** What the daemon has seen, on a monotonic clock (ms). */
export interface PoolHistory {
  /** When the latest pods were asked to start, oldest first (the last few are enough). */
  starts: number[];
  /** How many containers of each of those pods a sandbox could serve (same order; none: 1). */
  sizes?: number[];
  /** The last time a pod started, finished starting or stopped. */
  lastActivity?: number;
  /** The last `daemon settle`: a fill asked for, which the drain counts like a pod start. */
  settledAt?: number;
  /** Pods asked to start that have not finished starting (or failed to). */
  starting?: number;
}

export interface PoolDecision {
  /** Sandboxes the pool should hold. */
  target: number;
  /** Containers each sandbox booted from now on is made for (sandboxSize). */
  perSandbox: number;
  /** `fill`: boot up to target now; `shrink`: drop down to target now; `wait`: not yet. */
  act: 'fill' | 'shrink' | 'wait';
  /** Decide again at this time unless something happens first (undefined: only on an event). */
  recheckAt?: number;
}

/** How many starts the history keeps: the burst rule looks at the last two, the size at all. */
export const HISTORY_STARTS = 4;

/**
 * Containers a sandbox booted now is made for: the most any of the last pods could use, at
 * least 1 (a pod that used none, or no pod yet: a one-container pod is the common case), at
 * most `perSandbox`.
 */
export function sandboxSize(h: PoolHistory, o: Pick<PoolPolicyOptions, 'perSandbox'>): number {
  return Math.min(o.perSandbox, Math.max(1, ...(h.sizes ?? [])));
}

export function decidePool(h: PoolHistory, now: number, o: PoolPolicyOptions): PoolDecision {
  const perSandbox = sandboxSize(h, o);
  if (o.max <= 0) return { target: 0, perSandbox, act: 'shrink' };
  const lastStart = h.starts.at(-1);
  const demandAt = Math.max(lastStart ?? -Infinity, h.settledAt ?? -Infinity);
  if (demandAt === -Infinity) return { target: 0, perSandbox, act: 'wait' };
  const drainAt = demandAt + o.drainAfterMs;
  if (now >= drainAt) return { target: 0, perSandbox, act: 'shrink' };
  const previous = h.starts.at(-2);
  const burst = lastStart !== undefined && previous !== undefined && lastStart - previous < o.burstGapMs;
  // A pod still starting is activity until it has started: a 3-container or bridge pod takes
  // longer than quietMs, and the refill's boots landed in the middle of its start.
  if ((h.starting ?? 0) > 0) return { target: o.max, perSandbox, act: 'wait', recheckAt: drainAt };
  const fillAt = (h.lastActivity ?? -Infinity) + (burst ? o.burstGapMs : o.quietMs);
  if (now < fillAt) return { target: o.max, perSandbox, act: 'wait', recheckAt: Math.min(fillAt, drainAt) };
  return { target: o.max, perSandbox, act: 'fill', recheckAt: drainAt };
}

/** Whether a claim should refill the pool at once: pods come back to back. */
export function refillAtClaim(h: PoolHistory, o: Pick<PoolPolicyOptions, 'max' | 'burstGapMs'>): boolean {
  const [previous, last] = h.starts.slice(-2);
  return o.max > 0 && previous !== undefined && last !== undefined && last - previous < o.burstGapMs;
}

/**
 * The history with one more pod start, of a pod a sandbox could serve `containers` of (the
 * oldest starts beyond HISTORY_STARTS forgotten).
 */
export function withStart(h: PoolHistory, now: number, containers = 1): PoolHistory {
  return {
    ...h,
    starts: [...h.starts, now].slice(-HISTORY_STARTS),
    sizes: [...(h.sizes ?? []), containers].slice(-HISTORY_STARTS),
    lastActivity: now,
    starting: (h.starting ?? 0) + 1,
  };
}

/** The history once a pod has finished starting, or failed to (activity now). */
export function withStarted(h: PoolHistory, now: number): PoolHistory {
  return { ...h, lastActivity: now, starting: Math.max(0, (h.starting ?? 0) - 1) };
}
