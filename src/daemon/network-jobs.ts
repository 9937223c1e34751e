/**
 * The pods' CNI DELs the daemon finishes after it answered their clients
 * (src/pod/network-teardown.ts). Each pod's network record stays until its DEL is done, so a
 * daemon killed meanwhile leaves it to the next one's gc; `settle`, `daemon stop` and the
 * handover wait for them.
 */
import { errorLine } from '../errors.js';
import type { DeferredNetworkTeardown, NetworkDeferral } from '../pod/network-teardown.js';

export class NetworkJobs implements NetworkDeferral {
  private readonly running = new Map<string, Promise<void>>();
  private readonly log: (message: string) => void;

  constructor(log: (message: string) => void) {
    this.log = log;
  }

  pending(podId: string): boolean {
    return this.running.has(podId);
  }

  add(job: DeferredNetworkTeardown): void {
    if (this.running.has(job.podId)) return;
    const what = `network teardown of pod ${job.pod} (${job.podId})`;
    const done = job
      .run((m) => this.log(`${what}: ${m}`))
      .catch((err: unknown) => this.log(`${what}: ${errorLine(err)}`))
      .finally(() => this.running.delete(job.podId));
    this.running.set(job.podId, done);
  }

  size(): number {
    return this.running.size;
  }

  /** Resolves once no DEL is pending, those added meanwhile included. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }
}
