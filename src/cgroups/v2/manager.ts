/**
 * cgroup v2 (unified) manager: one tree, `<root>/<parent>/<pod>/{init,<container>}`.
 *
 * Controllers are enabled in cgroup.subtree_control of the root, the parent and the pod, never
 * in the leaves; processes only ever live in leaves (init, containers), which is what the
 * no-internal-processes rule asks of the parent and pod cgroups.
 */
import path from 'node:path';
import { HostError } from '../../errors.js';
import { BaseManager, type Hierarchy, type ResolvedOptions } from '../common.js';
import { parseKeyed, parseLimit, readOptional, sleep } from '../fs.js';
import type { CgroupStats, EffectiveLimits } from '../manager.js';
import type { Controller } from '../plan.js';

/** What minipod needs below its parent: limits (cpu, memory, pids) and their statistics. */
export const V2_CONTROLLERS = ['cpu', 'memory', 'pids'] as const;

export class V2Manager extends BaseManager {
  readonly version = 'v2' as const;
  private readonly unified: Hierarchy;

  constructor(opts: ResolvedOptions) {
    super(opts);
    this.unified = { name: 'unified', mount: opts.root };
  }

  protected hierarchies(): Hierarchy[] {
    return [this.unified];
  }

  protected hierarchyFor(_controller: Controller): Hierarchy {
    return this.unified;
  }

  protected override beforeCreate(): void {
    this.enableControllers(this.unified.mount);
  }

  protected prepare(_h: Hierarchy, dir: string, hasChildren: boolean): void {
    if (hasChildren) this.enableControllers(dir);
  }

  /** Adds our controllers to dir's subtree_control, those dir has and has not enabled yet. */
  private enableControllers(dir: string): void {
    const available = new Set((readOptional(this.fs, path.join(dir, 'cgroup.controllers')) ?? '').split(/\s+/));
    const enabled = new Set((readOptional(this.fs, path.join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/));
    const missing = V2_CONTROLLERS.filter((c) => available.has(c) && !enabled.has(c));
    if (missing.length === 0) return;
    this.fs.write(path.join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  }

  /**
   * memory.min only protects a cgroup as far as its parent is protected, and the parent is ours:
   * keep its memory.min at the sum of the pods' (as kubelet does for kubepods). Recomputed from
   * the filesystem on every create/destroy, so a crash or race heals on the next one.
   */
  protected override afterChange(): void {
    const parent = this.parentDir(this.unified);
    const minFile = path.join(parent, 'memory.min');
    if (!this.fs.exists(minFile)) return;
    let total = 0;
    for (const pod of this.fs.subdirs(parent)) {
      total += parseLimit(readOptional(this.fs, path.join(parent, pod, 'memory.min'))) ?? 0;
    }
    const current = parseLimit(readOptional(this.fs, minFile)) ?? 0;
    if (current !== total) this.fs.write(minFile, String(total));
  }

  populated(pod: string, child?: string): boolean {
    const events = readOptional(this.fs, path.join(this.dir(this.unified, pod, child), 'cgroup.events'));
    if (events === undefined) return false;
    return parseKeyed(events).get('populated') === 1;
  }

  protected killFile(pod: string, child: string): string | undefined {
    return path.join(this.dir(this.unified, pod, child), 'cgroup.kill');
  }

  async kill(pod: string): Promise<void> {
    const dir = this.dir(this.unified, pod);
    if (!this.fs.exists(dir)) return;
    const killFile = path.join(dir, 'cgroup.kill');
    if (this.fs.exists(killFile)) {
      // One write kills the whole subtree atomically, forks in flight included (Linux >= 5.14).
      this.fs.write(killFile, '1');
      const deadline = Date.now() + this.killTimeoutMs;
      for (let i = 0; this.populated(pod) && Date.now() < deadline; i++) await sleep(Math.min(50, 2 * (i + 1)));
      if (!this.populated(pod)) return;
    }
    // Older kernels: freeze (fatal signals still get through on v2), kill, thaw, until empty.
    const freeze = path.join(dir, 'cgroup.freeze');
    const canFreeze = this.fs.exists(freeze);
    await this.killLoop(pod, {
      before: async () => {
        if (canFreeze) this.fs.write(freeze, '1');
      },
      after: () => {
        if (canFreeze) this.fs.write(freeze, '0');
      },
    });
  }

  async setFrozen(pod: string, child: string | undefined, frozen: boolean): Promise<void> {
    const dir = this.dir(this.unified, pod, child);
    this.fs.write(path.join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
    const want = frozen ? 1 : 0;
    const events = path.join(dir, 'cgroup.events');
    if (await this.waitFor(() => parseKeyed(readOptional(this.fs, events)).get('frozen') === want, this.freezeTimeoutMs)) return;
    if (frozen) {
      this.fs.write(path.join(dir, 'cgroup.freeze'), '0');
      throw new HostError(`freeze ${dir}: not frozen after ${this.freezeTimeoutMs} ms`, {
        hint: 'a process in uninterruptible sleep (D state) cannot be frozen',
      });
    }
  }

  isFrozen(pod: string, child?: string): boolean {
    return readOptional(this.fs, path.join(this.dir(this.unified, pod, child), 'cgroup.freeze'))?.trim() === '1';
  }

  oomKillCount(pod: string, child: string): number {
    return parseKeyed(readOptional(this.fs, path.join(this.dir(this.unified, pod, child), 'memory.events'))).get('oom_kill') ?? 0;
  }

  /** The cgroup and its ancestors up to (and including) the pod, innermost first. */
  private chain(pod: string, child?: string): string[] {
    const out = [this.dir(this.unified, pod, child)];
    if (child) out.push(this.dir(this.unified, pod));
    return out;
  }

  private tightest(pod: string, child: string | undefined, file: string): number | null {
    let best: number | null = null;
    for (const d of this.chain(pod, child)) {
      const v = parseLimit(readOptional(this.fs, path.join(d, file)));
      if (typeof v === 'number' && (best === null || v < best)) best = v;
    }
    return best;
  }

  private cpuLimitMilli(dir: string): number | null {
    const t = readOptional(this.fs, path.join(dir, 'cpu.max'));
    if (!t) return null;
    const [quota, period] = t.trim().split(/\s+/);
    if (quota === 'max' || !quota || !period) return null;
    return (Number(quota) / Number(period)) * 1000;
  }

  effectiveLimits(pod: string, child?: string): EffectiveLimits {
    const own = this.dir(this.unified, pod, child);
    let cpu: number | null = null;
    for (const d of this.chain(pod, child)) {
      const m = this.cpuLimitMilli(d);
      if (m !== null && (cpu === null || m < cpu)) cpu = m;
    }
    const weight = parseLimit(readOptional(this.fs, path.join(own, 'cpu.weight')));
    const out: EffectiveLimits = {
      memoryMaxBytes: this.tightest(pod, child, 'memory.max'),
      memoryMinBytes: parseLimit(readOptional(this.fs, path.join(own, 'memory.min'))) ?? 0,
      swapMaxBytes: this.tightest(pod, child, 'memory.swap.max'),
      cpuLimitMilli: cpu,
      pidsMax: this.tightest(pod, child, 'pids.max'),
    };
    if (typeof weight === 'number') out.cpuWeight = weight;
    return out;
  }

  stats(pod: string, child?: string): CgroupStats {
    const dir = this.dir(this.unified, pod, child);
    const cpu = parseKeyed(readOptional(this.fs, path.join(dir, 'cpu.stat')));
    const mem = parseKeyed(readOptional(this.fs, path.join(dir, 'memory.stat')));
    const current = parseLimit(readOptional(this.fs, path.join(dir, 'memory.current'))) ?? 0;
    const inactive = mem.get('inactive_file') ?? 0;
    return {
      cpuUsageNs: (cpu.get('usage_usec') ?? 0) * 1000,
      cpuUserNs: (cpu.get('user_usec') ?? 0) * 1000,
      cpuSystemNs: (cpu.get('system_usec') ?? 0) * 1000,
      nrPeriods: cpu.get('nr_periods') ?? 0,
      nrThrottled: cpu.get('nr_throttled') ?? 0,
      throttledNs: (cpu.get('throttled_usec') ?? 0) * 1000,
      memoryCurrentBytes: current,
      memoryWorkingSetBytes: Math.max(0, current - inactive),
      memoryLimitBytes: this.tightest(pod, child, 'memory.max'),
      pidsCurrent: parseLimit(readOptional(this.fs, path.join(dir, 'pids.current'))) ?? 0,
      pidsMax: this.tightest(pod, child, 'pids.max'),
    };
  }
}
