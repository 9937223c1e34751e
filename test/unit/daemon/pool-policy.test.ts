import { describe, expect, it, vi } from 'vitest';
import { PoolDriver, type SizedPool } from '../../../src/daemon/pool-driver.js';
import {
  DEFAULT_POOL_POLICY,
  HISTORY_STARTS,
  type PoolHistory,
  decidePool,
  refillAtClaim,
  sandboxSize,
  withStart,
  withStarted,
} from '../../../src/daemon/pool-policy.js';
import { sandboxDemand } from '../../../src/daemon/warm-pool.js';

const o = { ...DEFAULT_POOL_POLICY, max: 1 };
const { quietMs, burstGapMs, drainAfterMs } = DEFAULT_POOL_POLICY;

/** The history after pods asked to start at these times, each busy until `lastActivity`. */
function history(starts: number[], lastActivity = starts.at(-1)): PoolHistory {
  return { starts, lastActivity };
}

describe('decidePool', () => {
  it('keeps nothing pooled until a pod comes', () => {
    expect(decidePool({ starts: [] }, 0, o)).toEqual({ target: 0, perSandbox: 1, act: 'wait' });
    expect(decidePool({ starts: [] }, 3_600_000, o)).toEqual({ target: 0, perSandbox: 1, act: 'wait' });
  });

  it('fills once pods have stopped starting and stopping for quietMs after a lone pod', () => {
    const h = history([10_000], 10_080);
    expect(decidePool(h, 10_080, o)).toEqual({ target: 1, perSandbox: 1, act: 'wait', recheckAt: 10_080 + quietMs });
    expect(decidePool(h, 10_080 + quietMs, o)).toEqual({ target: 1, perSandbox: 1, act: 'fill', recheckAt: 10_000 + drainAfterMs });
  });

  it('defers the refill while pods come back to back, until a burst gap without pod activity', () => {
    // Starts 400 ms apart: each pod's start and stop move the refill on.
    const h = history([10_000, 10_400], 10_480);
    expect(decidePool(h, 10_480 + quietMs, o)).toMatchObject({ act: 'wait', recheckAt: 10_480 + burstGapMs });
    expect(decidePool(h, 10_480 + burstGapMs, o)).toMatchObject({ target: 1, act: 'fill' });
  });

  it('does not count pods started further apart than the burst gap as back to back', () => {
    const h = history([10_000, 10_000 + burstGapMs + 500], 10_000 + burstGapMs + 600);
    expect(decidePool(h, 10_000 + burstGapMs + 600 + quietMs, o)).toMatchObject({ act: 'fill' });
  });

  it('drains drainAfterMs after the last pod start, whatever stopped later', () => {
    const h = history([10_000], 10_000 + drainAfterMs - 1);
    expect(decidePool(h, 10_000 + drainAfterMs - 1, o).target).toBe(1);
    expect(decidePool(h, 10_000 + drainAfterMs, o)).toEqual({ target: 0, perSandbox: 1, act: 'shrink' });
  });

  it('counts daemon settle as demand: full now, drained drainAfterMs later', () => {
    const h: PoolHistory = { starts: [], settledAt: 5_000 };
    expect(decidePool(h, 5_000, o)).toEqual({ target: 1, perSandbox: 1, act: 'fill', recheckAt: 5_000 + drainAfterMs });
    expect(decidePool(h, 5_000 + drainAfterMs, o)).toEqual({ target: 0, perSandbox: 1, act: 'shrink' });
  });

  it('keeps the configured number of sandboxes, and none when the pool is disabled', () => {
    expect(decidePool(history([0], 0), quietMs, { ...o, max: 3 })).toMatchObject({ target: 3, act: 'fill' });
    expect(decidePool(history([0], 0), quietMs, { ...o, max: 0 })).toEqual({ target: 0, perSandbox: 1, act: 'shrink' });
  });

  it('holds the refill back while a pod is starting, however long its start takes', () => {
    // A 3-container or bridge pod takes longer than quietMs to start: its start is activity.
    const starting = withStart({ starts: [] }, 10_000, 3);
    expect(decidePool(starting, 10_000 + quietMs, o)).toEqual({ target: 1, perSandbox: 3, act: 'wait', recheckAt: 10_000 + drainAfterMs });
    expect(decidePool(starting, 10_000 + 5 * quietMs, o)).toMatchObject({ act: 'wait' });
    const started = withStarted(starting, 10_600);
    expect(started.starting).toBe(0);
    expect(decidePool(started, 10_600, o)).toMatchObject({ act: 'wait', recheckAt: 10_600 + quietMs });
    expect(decidePool(started, 10_600 + quietMs, o)).toMatchObject({ act: 'fill', perSandbox: 3 });
    // Two pods starting at once: the refill waits for both.
    const two = withStarted(withStart(withStart({ starts: [] }, 10_000), 10_050), 10_300);
    expect(decidePool(two, 10_300 + burstGapMs, o)).toMatchObject({ act: 'wait' });
    expect(decidePool(withStarted(two, 10_400), 10_400 + burstGapMs, o)).toMatchObject({ act: 'fill' });
  });

  it('keeps the last few starts', () => {
    let h: PoolHistory = { starts: [] };
    for (let t = 0; t < 10; t++) h = withStart(h, t * 100, t);
    expect(h.starts).toEqual([600, 700, 800, 900].slice(-HISTORY_STARTS));
    expect(h.sizes).toEqual([6, 7, 8, 9].slice(-HISTORY_STARTS));
    expect(h.lastActivity).toBe(900);
  });
});

describe('refillAtClaim', () => {
  it('refills at the claim only while pods come back to back', () => {
    expect(refillAtClaim({ starts: [] }, o)).toBe(false);
    expect(refillAtClaim(history([10_000]), o)).toBe(false);
    expect(refillAtClaim(history([10_000, 10_000 + burstGapMs + 1]), o)).toBe(false);
    expect(refillAtClaim(history([10_000, 10_400]), o)).toBe(true);
    expect(refillAtClaim(history([10_000, 10_400]), { ...o, max: 0 })).toBe(false);
  });
});

describe('sandboxSize', () => {
  /** The history after pods of these sizes started 10 s apart. */
  const pods = (...sizes: number[]): PoolHistory =>
    sizes.reduce((h, n, i) => withStarted(withStart(h, i * 10_000, n), i * 10_000 + 100), { starts: [] } as PoolHistory);

  it('makes sandboxes for one container until a bigger pod comes', () => {
    expect(sandboxSize({ starts: [] }, o)).toBe(1);
    expect(sandboxSize(pods(1, 1, 1), o)).toBe(1);
    // A pod a sandbox served nothing of (hostNetwork, a PID namespace per container) counts as 1.
    expect(sandboxSize(pods(0), o)).toBe(1);
    expect(sandboxSize(pods(1, 2), o)).toBe(2);
  });

  it('follows the largest of the last pods, capped at perSandbox', () => {
    expect(sandboxSize(pods(3, 1, 1, 1), o)).toBe(3);
    expect(sandboxSize(pods(5), o)).toBe(3);
    expect(sandboxSize(pods(5), { perSandbox: 2 })).toBe(2);
    // Sizes beyond the history's window are forgotten: back to one-container sandboxes.
    expect(sandboxSize(pods(3, ...Array<number>(HISTORY_STARTS).fill(1)), o)).toBe(1);
  });

  it('is what the pool decisions boot', () => {
    const h = pods(1, 2);
    const now = h.lastActivity! + burstGapMs;
    expect(decidePool(h, now, o)).toMatchObject({ act: 'fill', perSandbox: 2 });
    expect(decidePool({ ...h, settledAt: now }, now, o)).toMatchObject({ perSandbox: 2 });
  });
});

describe('sandboxDemand', () => {
  const c = (stdin = false): { stdin: boolean } => ({ stdin });
  const pod = (over: object = {}): Parameters<typeof sandboxDemand>[0] =>
    ({ hostNetwork: false, shareProcessNamespace: true, initContainers: [], containers: [c()], ...over }) as never;

  it('counts the containers and init containers a sandbox could serve', () => {
    expect(sandboxDemand(pod())).toBe(1);
    expect(sandboxDemand(pod({ containers: [c(), c(), c()] }))).toBe(3);
    expect(sandboxDemand(pod({ initContainers: [c()], containers: [c(), c()] }))).toBe(3);
  });

  it('leaves out containers with stdin, and pods that claim no container slot', () => {
    expect(sandboxDemand(pod({ containers: [c(), c(true)] }))).toBe(1);
    expect(sandboxDemand(pod({ hostNetwork: true, containers: [c(), c()] }))).toBe(0);
    expect(sandboxDemand(pod({ shareProcessNamespace: false, containers: [c(), c()] }))).toBe(0);
  });
});

describe('PoolDriver', () => {
  function fake(): { pool: SizedPool; calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      pool: {
        fill: (n, per) => calls.push(`fill ${n}x${per}`),
        shrink: (n) => calls.push(`shrink ${n}`),
        settled: () => Promise.resolve(),
      },
    };
  }

  /**
   * A driver on a fake clock: `at` sets the driver's clock (an event at that time), `advance`
   * moves the clock and the timers together.
   */
  function onFakeClock(
    run: (t: { driver: PoolDriver; calls: string[]; at: (ms: number) => void; advance: (ms: number) => void }) => void,
  ): void {
    vi.useFakeTimers();
    let now = 0;
    const { pool, calls } = fake();
    const driver = new PoolDriver(pool, o, () => now);
    try {
      run({
        driver,
        calls,
        at: (ms) => (now = ms),
        advance: (ms) => {
          now += ms;
          vi.advanceTimersByTime(ms);
        },
      });
    } finally {
      driver.stop();
      vi.useRealTimers();
    }
  }

  it('acts on the policy at events and at the times it names', () => {
    onFakeClock(({ driver, calls, at, advance }) => {
      driver.podStarting();
      at(100);
      driver.podStarted();
      at(150);
      driver.podActivity(); // exited
      expect(calls).toEqual([]);
      advance(quietMs);
      expect(calls).toEqual(['fill 1x1']);
      advance(drainAfterMs - 150 - quietMs);
      expect(calls).toEqual(['fill 1x1', 'shrink 0']);
    });
  });

  it('does not fill while a pod whose start takes longer than quietMs is starting', () => {
    onFakeClock(({ driver, calls, advance }) => {
      driver.podStarting(3);
      advance(3 * quietMs);
      expect(calls).toEqual([]);
      driver.podStarted();
      advance(quietMs);
      expect(calls).toEqual(['fill 1x3']);
    });
  });

  it('settle fills to the maximum at once, even on a daemon that has seen no pod', async () => {
    const { pool, calls } = fake();
    const driver = new PoolDriver(pool, { ...o, max: 2 }, () => 1_000);
    await driver.settle();
    expect(calls[0]).toBe('fill 2x1');
    driver.stop();
  });

  it('fills at a claim while pods come back to back, not for a lone pod', async () => {
    let now = 0;
    const { pool, calls } = fake();
    const driver = new PoolDriver(pool, o, () => now);
    driver.podStarting();
    driver.sandboxClaimed();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([]);
    now = 400;
    driver.podStarting(2);
    driver.sandboxClaimed();
    expect(calls).toEqual([]); // not in the claim's turn of the event loop
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['fill 1x2']);
    driver.stop();
  });

  it('sizes the sandboxes it fills to the pods that came', () => {
    onFakeClock(({ driver, calls, at, advance }) => {
      driver.podStarting(3);
      at(100);
      driver.podStarted();
      advance(quietMs);
      for (let i = 1; i <= HISTORY_STARTS; i++) {
        at(i * 10_000);
        driver.podStarting(1);
        at(i * 10_000 + 100);
        driver.podStarted();
        advance(quietMs);
      }
      expect(calls).toEqual(['fill 1x3', ...Array<string>(HISTORY_STARTS - 1).fill('fill 1x3'), 'fill 1x1']);
    });
  });
});
