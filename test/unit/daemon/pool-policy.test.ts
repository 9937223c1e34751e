import { describe, expect, it, vi } from 'vitest';
import { PoolDriver, type SizedPool } from '../../../src/daemon/pool-driver.js';
import { DEFAULT_POOL_POLICY, HISTORY_STARTS, type PoolHistory, decidePool, withStart } from '../../../src/daemon/pool-policy.js';

const o = { ...DEFAULT_POOL_POLICY, max: 1 };
const { quietMs, burstGapMs, drainAfterMs } = DEFAULT_POOL_POLICY;

/** The history after pods asked to start at these times, each busy until `lastActivity`. */
function history(starts: number[], lastActivity = starts.at(-1)): PoolHistory {
  return { starts, lastActivity };
}

describe('decidePool', () => {
  it('keeps nothing pooled until a pod comes', () => {
    expect(decidePool({ starts: [] }, 0, o)).toEqual({ target: 0, act: 'wait' });
    expect(decidePool({ starts: [] }, 3_600_000, o)).toEqual({ target: 0, act: 'wait' });
  });

  it('fills once pods have stopped starting and stopping for quietMs after a lone pod', () => {
    const h = history([10_000], 10_080);
    expect(decidePool(h, 10_080, o)).toEqual({ target: 1, act: 'wait', recheckAt: 10_080 + quietMs });
    expect(decidePool(h, 10_080 + quietMs, o)).toEqual({ target: 1, act: 'fill', recheckAt: 10_000 + drainAfterMs });
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
    expect(decidePool(h, 10_000 + drainAfterMs, o)).toEqual({ target: 0, act: 'shrink' });
  });

  it('counts daemon settle as demand: full now, drained drainAfterMs later', () => {
    const h: PoolHistory = { starts: [], settledAt: 5_000 };
    expect(decidePool(h, 5_000, o)).toEqual({ target: 1, act: 'fill', recheckAt: 5_000 + drainAfterMs });
    expect(decidePool(h, 5_000 + drainAfterMs, o)).toEqual({ target: 0, act: 'shrink' });
  });

  it('keeps the configured number of sandboxes, and none when the pool is disabled', () => {
    expect(decidePool(history([0], 0), quietMs, { ...o, max: 3 })).toMatchObject({ target: 3, act: 'fill' });
    expect(decidePool(history([0], 0), quietMs, { ...o, max: 0 })).toEqual({ target: 0, act: 'shrink' });
  });

  it('keeps the last few starts', () => {
    let h: PoolHistory = { starts: [] };
    for (let t = 0; t < 10; t++) h = withStart(h, t * 100);
    expect(h.starts).toEqual([600, 700, 800, 900].slice(-HISTORY_STARTS));
    expect(h.lastActivity).toBe(900);
  });
});

describe('PoolDriver', () => {
  function fake(): { pool: SizedPool; calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      pool: {
        fill: (n) => calls.push(`fill ${n}`),
        shrink: (n) => calls.push(`shrink ${n}`),
        settled: () => Promise.resolve(),
      },
    };
  }

  it('acts on the policy at events and at the times it names', () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const { pool, calls } = fake();
      const driver = new PoolDriver(pool, o, () => now);
      driver.podStarting();
      now = 100;
      driver.podActivity(); // started
      now = 150;
      driver.podActivity(); // exited
      expect(calls).toEqual([]);
      now = 150 + quietMs;
      vi.advanceTimersByTime(quietMs);
      expect(calls).toEqual(['fill 1']);
      now = drainAfterMs;
      vi.advanceTimersByTime(drainAfterMs - 150 - quietMs);
      expect(calls).toEqual(['fill 1', 'shrink 0']);
      driver.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('settle fills to the maximum at once, even on a daemon that has seen no pod', async () => {
    const { pool, calls } = fake();
    const driver = new PoolDriver(pool, { ...o, max: 2 }, () => 1_000);
    await driver.settle();
    expect(calls[0]).toBe('fill 2');
    driver.stop();
  });
});
