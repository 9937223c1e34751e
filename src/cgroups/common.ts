/**
 * What the v1 and v2 managers share: the directory layout, create with undo, membership, pid
 * listing and teardown from the filesystem alone. The subclasses add how a directory is prepared
 * (subtree_control on v2, cpuset copying on v1), where a controller's files live, kill and stats.
 */
import path from 'node:path';
import { HostError, UserError } from '../errors.js';
import type { CgroupMode } from './detect.js';
import { codeOf, parsePids, readOptional, sleep, walkDeepestFirst, type CgroupFs } from './fs.js';
import type { CgroupManager, CgroupStats, EffectiveLimits, ManagerOptions } from './manager.js';
import type { CgroupVersion, CgroupWrite, Controller, PodCgroupPlan } from './plan.js';

/** Pod and child names become path components: refuse anything that could climb out. */
export function checkName(name: string, what: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new UserError(`invalid ${what} name for a cgroup: ${JSON.stringify(name)}`, { code: 'cgroup.name' });
  }
}

/** How long pause waits for every task to stop (runc gives up after about 1 s, then thaws). */
export const FREEZE_TIMEOUT_MS = 2_000;

/** One hierarchy minipod places pods in: `unified` or a v1 controller name, and its mount. */
export interface Hierarchy {
  name: string;
  mount: string;
}

export type ResolvedOptions = ManagerOptions & { fs: CgroupFs; mode: CgroupMode };

export abstract class BaseManager implements CgroupManager {
  readonly mode: CgroupMode;
  abstract readonly version: CgroupVersion;
  protected readonly fs: CgroupFs;
  protected readonly root: string;
  /** Path components of the parent, e.g. ['minipod']. */
  protected readonly parentParts: string[];
  protected readonly killTimeoutMs: number;
  protected readonly freezeTimeoutMs: number;

  constructor(opts: ResolvedOptions) {
    this.mode = opts.mode;
    this.fs = opts.fs;
    this.root = opts.root;
    this.parentParts = opts.parent.split('/').filter(Boolean);
    if (this.parentParts.length === 0) throw new Error('cgroup parent must not be empty');
    for (const p of this.parentParts) checkName(p, 'cgroup parent');
    this.killTimeoutMs = opts.killTimeoutMs ?? 10_000;
    this.freezeTimeoutMs = opts.freezeTimeoutMs ?? FREEZE_TIMEOUT_MS;
  }

  /** Every hierarchy a process must join; computed once the subclass knows the mounts. */
  protected abstract hierarchies(): Hierarchy[];
  /** The hierarchy that holds a controller's files. */
  protected abstract hierarchyFor(controller: Controller): Hierarchy | undefined;
  /** Called after creating `dir` (and before creating anything below it). */
  protected abstract prepare(h: Hierarchy, dir: string, hasChildren: boolean): void;
  abstract kill(pod: string): Promise<void>;
  abstract oomKillCount(pod: string, child: string): number;
  abstract stats(pod: string, child?: string): CgroupStats;
  abstract effectiveLimits(pod: string, child?: string): EffectiveLimits;
  abstract populated(pod: string, child?: string): boolean;
  abstract setFrozen(pod: string, child: string | undefined, frozen: boolean): Promise<void>;
  abstract isFrozen(pod: string, child?: string): boolean;
  /** Before the first mkdir of a create (v2: enable controllers at the root). */
  protected beforeCreate(): void {}
  /** After a pod was created or destroyed (v2: keep the parent's memory.min in step). */
  protected afterChange(): void {}

  protected parentDir(h: Hierarchy): string {
    return path.join(h.mount, ...this.parentParts);
  }

  protected dir(h: Hierarchy, pod: string, child?: string): string {
    checkName(pod, 'pod');
    if (child !== undefined && child !== '') checkName(child, 'container');
    return path.join(this.parentDir(h), pod, child ?? '');
  }

  paths(pod: string, child?: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const h of this.hierarchies()) out[h.name] = this.dir(h, pod, child);
    return out;
  }

  procsFiles(pod: string, child: string): string[] {
    return this.hierarchies().map((h) => path.join(this.dir(h, pod, child), 'cgroup.procs'));
  }

  addProcess(pod: string, child: string, pid: number): void {
    for (const file of this.procsFiles(pod, child)) this.fs.write(file, String(pid));
  }

  /** A controller file of a cgroup, or undefined when that controller is not mounted. */
  protected file(controller: Controller, pod: string, child: string | undefined, name: string): string | undefined {
    const h = this.hierarchyFor(controller);
    return h ? path.join(this.dir(h, pod, child), name) : undefined;
  }

  protected read(file: string | undefined): string | undefined {
    return file === undefined ? undefined : readOptional(this.fs, file);
  }

  create(plan: PodCgroupPlan): void {
    if (plan.version !== this.version) {
      throw new Error(`cgroup plan for ${plan.version} given to the ${this.version} manager`);
    }
    const made: string[] = [];
    const shared = new Set<string>();
    try {
      this.beforeCreate();
      for (const h of this.hierarchies()) {
        const ensureParent = (): void => {
          let dir = h.mount;
          for (const part of this.parentParts) {
            dir = path.join(dir, part);
            if (!this.fs.exists(dir)) {
              this.mkdirRacing(dir);
              made.push(dir);
              shared.add(dir);
            }
            this.prepare(h, dir, true);
          }
        };
        ensureParent();
        for (const cg of plan.cgroups) {
          const dir = this.dir(h, plan.pod, cg.child);
          try {
            this.fs.mkdir(dir);
          } catch (err) {
            // The last pod's destroy removed the empty parent between our check and mkdir: redo it once.
            if (cg.kind !== 'pod' || codeOf(err) !== 'ENOENT') throw err;
            ensureParent();
            this.fs.mkdir(dir);
          }
          made.push(dir);
          this.prepare(h, dir, cg.kind === 'pod');
        }
      }
      for (const cg of plan.cgroups) this.applyWrites(plan.pod, cg.child, cg.writes);
      this.afterChange();
    } catch (err) {
      const cleanupErrors: unknown[] = [];
      for (const dir of made.reverse()) {
        try {
          this.fs.rmdir(dir);
        } catch (e) {
          const code = codeOf(e);
          // A shared parent that another pod started using meanwhile is busy: leave it.
          const busyParent = shared.has(dir) && (code === 'EBUSY' || code === 'ENOTEMPTY');
          if (code !== 'ENOENT' && !busyParent) cleanupErrors.push(e);
        }
      }
      if (cleanupErrors.length > 0 && err instanceof Error) {
        (err as Error & { cleanupErrors?: unknown[] }).cleanupErrors = cleanupErrors;
      }
      throw err;
    }
  }

  applyWrites(pod: string, child: string | undefined, writes: CgroupWrite[]): void {
    for (const w of writes) {
      const file = this.file(w.controller, pod, child, w.file);
      if (file === undefined) {
        if (w.optional) continue;
        throw new HostError(`the ${w.controller} cgroup controller is not available on this host (needed for ${w.file} = ${w.value})`, {
          hint: `cgroup.controllers of ${this.parentParts.join('/')} and its parents (v2), or the mounted v1 hierarchies (/proc/self/mountinfo)`,
        });
      }
      if (w.optional && !this.fs.exists(file)) continue;
      this.fs.write(file, w.value);
    }
  }

  /** Polls `reached` until true or the deadline (a task in D state may never freeze). */
  protected async waitFor(reached: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; ; i++) {
      if (reached()) return true;
      if (Date.now() > deadline) return false;
      await sleep(Math.min(50, 1 + i));
    }
  }

  /** mkdir of a shared parent: another minipod may create it first (fine). */
  private mkdirRacing(dir: string): void {
    try {
      this.fs.mkdir(dir);
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw err;
    }
  }

  pids(pod: string, child?: string): number[] {
    const all = new Set<number>();
    for (const h of this.hierarchies()) {
      const top = this.dir(h, pod, child);
      if (!this.fs.exists(top)) continue;
      for (const d of walkDeepestFirst(this.fs, top)) {
        for (const pid of parsePids(readOptional(this.fs, path.join(d, 'cgroup.procs')))) all.add(pid);
      }
    }
    return [...all].sort((a, b) => a - b);
  }

  /** SIGKILL every listed pid until none is left; `around` runs before and after each round (v1 freezer). */
  /** The cgroup.kill of a container's cgroup (v2, or the unified tree on hybrid), if any. */
  protected abstract killFile(pod: string, child: string): string | undefined;

  async killContainer(pod: string, child: string): Promise<void> {
    const killFile = this.killFile(pod, child);
    if (killFile !== undefined && this.fs.exists(killFile)) this.fs.write(killFile, '1');
    // Without cgroup.kill (legacy, kernels before 5.14), or for what joined only v1: by pid.
    const deadline = Date.now() + this.killTimeoutMs;
    for (let round = 0; ; round++) {
      const pids = this.pids(pod, child);
      if (pids.length === 0) return;
      if (Date.now() > deadline) throw new Error(`kill container ${pod}/${child}: processes still in its cgroups: ${pids.join(' ')}`);
      if (round > 0 || killFile === undefined) for (const pid of pids) this.fs.kill(pid, 'SIGKILL');
      await sleep(Math.min(50, 2 * (round + 1)));
    }
  }

  protected async killLoop(pod: string, around?: { before(): Promise<void>; after(): void }): Promise<void> {
    const deadline = Date.now() + this.killTimeoutMs;
    for (let round = 0; ; round++) {
      let pids = this.pids(pod);
      if (pids.length === 0) return;
      if (Date.now() > deadline) {
        throw new HostError(`kill pod ${pod}: processes still in its cgroups after ${this.killTimeoutMs} ms: ${pids.join(' ')}`, {
          hint: 'processes in uninterruptible sleep (state D in ps: a hung NFS or FUSE mount, a stuck device)',
        });
      }
      if (around) await around.before();
      try {
        // Listed again while frozen, so nothing forked in between escapes this round.
        pids = this.pids(pod);
        for (const pid of pids) this.fs.kill(pid, 'SIGKILL');
      } finally {
        around?.after();
      }
      await sleep(Math.min(100, 5 * (round + 1)));
    }
  }

  async destroy(pod: string): Promise<void> {
    await this.kill(pod);
    const errors: unknown[] = [];
    for (const h of this.hierarchies()) {
      const top = this.dir(h, pod);
      if (!this.fs.exists(top)) continue;
      for (const d of walkDeepestFirst(this.fs, top)) {
        try {
          await this.rmdirRetry(d);
        } catch (err) {
          errors.push(err);
        }
      }
    }
    try {
      this.afterChange();
    } catch {
      // Best effort: the parent's protection is recomputed on the next create/destroy anyway.
    }
    if (errors.length > 0) {
      throw new HostError(`destroy cgroups of pod ${pod}: ${errors.map((e) => (e as Error).message).join('; ')}`, {
        cause: errors[0],
        hint: (errors.find((e) => e instanceof HostError) as HostError | undefined)?.hint,
      });
    }
    this.removeParentIfEmpty();
  }

  /** rmdir, retrying EBUSY: a killed task leaves its cgroup a moment after it is reaped. */
  private async rmdirRetry(dir: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    for (let i = 0; ; i++) {
      try {
        this.fs.rmdir(dir);
        return;
      } catch (err) {
        const code = codeOf(err);
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || Date.now() > deadline) throw err;
      }
      await sleep(Math.min(200, 10 * (i + 1)));
    }
  }

  listPods(): string[] {
    const pods = new Set<string>();
    for (const h of this.hierarchies()) for (const name of this.fs.subdirs(this.parentDir(h))) pods.add(name);
    return [...pods].sort();
  }

  removeParentIfEmpty(): void {
    for (const h of this.hierarchies()) {
      for (let n = this.parentParts.length; n > 0; n--) {
        const dir = path.join(h.mount, ...this.parentParts.slice(0, n));
        try {
          this.fs.rmdir(dir);
        } catch (err) {
          const code = codeOf(err);
          // Busy or non-empty means a pod (or another tool) still uses it: keep it and its parents.
          if (code === 'ENOENT') continue;
          if (code === 'EBUSY' || code === 'ENOTEMPTY') break;
          throw err;
        }
      }
    }
  }
}
