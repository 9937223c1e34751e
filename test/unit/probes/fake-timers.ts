/** A manual clock for the probe state machine: timers fire only when a test advances time. */
import type { Timers } from '../../../src/probes/types.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets promise chains (the runner's results) settle. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeTimers implements Timers {
  private t = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }
  get timerCount(): number {
    return this.pending.length;
  }

  /** Moves the clock forward, firing due timers in order and letting promises settle between. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const next = [...this.pending].sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next || next.at > end) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }
}
