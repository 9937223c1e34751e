/**
 * Acts on the pool policy (./pool-policy.ts): records pod starts and stops, asks the policy,
 * fills or shrinks the warm pool, and keeps one timer for the next time the answer can change.
 */
import { type PoolHistory, type PoolPolicyOptions, decidePool, refillAtClaim, sandboxSize, withStart, withStarted } from './pool-policy.js';

/** What the driver needs of the pool (./warm-pool.ts). */
export interface SizedPool {
  /** Boots up to `target` sandboxes, each made for `perSandbox` containers. */
  fill(target: number, perSandbox: number): void;
  shrink(target: number): void;
  settled(): Promise<void>;
}

export class PoolDriver {
  private history: PoolHistory = { starts: [] };
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly pool: SizedPool,
    private readonly policy: PoolPolicyOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A pod was asked to start (before its sandbox is claimed); a sandbox could serve `containers` of it. */
  podStarting(containers = 1): void {
    this.history = withStart(this.history, this.now(), containers);
    this.apply();
  }

  /**
   * A pod claimed a sandbox, or found none: while pods come back to back, the refill starts now
   * (after the claim's turn of the event loop: its forks stay off the pod's path).
   */
  sandboxClaimed(): void {
    if (this.stopped || !refillAtClaim(this.history, this.policy)) return;
    setImmediate(() => {
      if (!this.stopped) this.pool.fill(this.policy.max, sandboxSize(this.history, this.policy));
    });
  }

  /** A pod asked to start (podStarting) has started, or failed to. */
  podStarted(): void {
    this.history = withStarted(this.history, this.now());
    this.apply();
  }

  /** A pod stopped. */
  podActivity(): void {
    this.history = { ...this.history, lastActivity: this.now() };
    this.apply();
  }

  /** `daemon settle`: the pool full and booted now (benchmarks, tests); it drains later as after a pod. */
  async settle(): Promise<void> {
    if (this.stopped) return;
    this.history = { ...this.history, settledAt: this.now() };
    this.disarm();
    this.pool.fill(this.policy.max, sandboxSize(this.history, this.policy));
    await this.pool.settled();
    this.apply();
  }

  /** No more decisions (shutdown, handover): the caller drains the pool. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private apply(): void {
    if (this.stopped) return;
    this.disarm();
    const now = this.now();
    const d = decidePool(this.history, now, this.policy);
    if (d.act === 'fill') this.pool.fill(d.target, d.perSandbox);
    else if (d.act === 'shrink') this.pool.shrink(d.target);
    if (d.recheckAt !== undefined) {
      this.timer = setTimeout(() => this.apply(), Math.max(0, d.recheckAt - now));
      this.timer.unref();
    }
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
