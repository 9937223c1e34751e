/**
 * Moving processes into cgroups off the event loop, in bursts.
 *
 * A write to cgroup.procs waits for an RCU grace period (the kernel's cgroup_threadgroup_rwsem)
 * unless another move happened a moment before: the first of a burst takes ~6 ms here, the
 * rest ~0.03 ms each. Through libuv's pool (one thread per write, event loop hops between
 * them) the grace period was paid again and again (~20 ms per helper). One worker thread
 * doing the writes of a request back to back pays it once, and the daemon's event loop goes on
 * preparing the pod meanwhile.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ id, moves }) => {
  try {
    for (const { pid, files } of moves) for (const f of files) fs.writeFileSync(f, String(pid));
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

export interface CgroupMove {
  pid: number;
  /** cgroup.procs files, one per hierarchy. */
  files: string[];
}

export class CgroupMover {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (error?: string) => void>();

  /** Starts the worker ahead of need (its boot takes a few ms). */
  start(): void {
    if (this.worker) return;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', ({ id, error }: { id: number; error?: string }) => {
      this.pending.get(id)?.(error);
      this.pending.delete(id);
    });
    worker.on('error', (err) => this.failAll(err.message));
    worker.on('exit', () => {
      this.worker = undefined;
      this.failAll('cgroup mover exited');
    });
    this.worker = worker;
  }

  /** Resolves once every process is in every listed cgroup; rejects with the first failure. */
  move(moves: CgroupMove[]): Promise<void> {
    this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (error) => (error ? reject(new Error(error)) : resolve()));
      this.worker!.postMessage({ id, moves });
    });
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
  }

  private failAll(message: string): void {
    for (const done of this.pending.values()) done(message);
    this.pending.clear();
  }
}
