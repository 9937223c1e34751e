/**
 * cgroup v1 manager, for legacy and hybrid hosts: the pod's path `<parent>/<pod>/<child>` is
 * created in every mounted v1 hierarchy (as runc's cgroupfs driver does) and, on hybrid hosts,
 * in the controller-less cgroup2 at `unified/`, which gives v1 hosts cgroup.kill and
 * cgroup.events. Limits go to the controller hierarchies; membership is all of them.
 */
import path from 'node:path';
import { HostError } from '../../errors.js';
import { BaseManager, type Hierarchy, type ResolvedOptions } from '../common.js';
import { V1_HIERARCHIES } from '../detect.js';
import { parseKeyed, parseLimit, readOptional, sleep } from '../fs.js';
import type { CgroupStats, EffectiveLimits } from '../manager.js';
import type { Controller } from '../plan.js';

/** cpuacct.stat counts in USER_HZ, 100 on every Linux architecture minipod runs on. */
const NS_PER_USER_HZ = 10_000_000;

export class V1Manager extends BaseManager {
  readonly version = 'v1' as const;
  private readonly list: Hierarchy[];
  private readonly byName = new Map<string, Hierarchy>();
  private readonly unified?: Hierarchy;

  constructor(opts: ResolvedOptions) {
    super(opts);
    const seen = new Map<string, Hierarchy>();
    for (const name of V1_HIERARCHIES) {
      const mount = path.join(opts.root, name);
      if (!this.fs.exists(mount)) continue;
      // Co-mounted controllers (cpu,cpuacct) share one tree: create there once, find it by either name.
      const real = this.fs.realpath(mount);
      const h = seen.get(real) ?? { name, mount };
      seen.set(real, h);
      this.byName.set(name, h);
    }
    this.list = [...seen.values()];
    if (opts.mode === 'hybrid') {
      this.unified = { name: 'unified', mount: path.join(opts.root, 'unified') };
      this.list.push(this.unified);
    }
    if (!this.byName.has('memory') && !this.byName.has('cpu') && !this.byName.has('pids')) {
      throw new HostError(`no cgroup v1 controllers found under ${opts.root}`, {
        hint: 'the cgroup hierarchies mounted there (findmnt -t cgroup), or MINIPOD_CGROUP_ROOT',
      });
    }
  }

  protected hierarchies(): Hierarchy[] {
    return this.list;
  }

  protected hierarchyFor(controller: Controller | 'cpuacct' | 'freezer'): Hierarchy | undefined {
    return this.byName.get(controller);
  }

  /**
   * A new v1 cpuset cgroup starts with empty cpus and mems and refuses tasks (ENOSPC) until they
   * are set: copy them from the parent, as runc does.
   */
  protected prepare(_h: Hierarchy, dir: string): void {
    for (const name of ['cpuset.cpus', 'cpuset.mems']) {
      const own = readOptional(this.fs, path.join(dir, name));
      if (own === undefined || own.trim() !== '') continue;
      const parent = readOptional(this.fs, path.join(path.dirname(dir), name))?.trim();
      if (parent) this.fs.write(path.join(dir, name), parent);
    }
  }

  private dirOf(controller: Controller | 'cpuacct' | 'freezer', pod: string, child?: string): string | undefined {
    const h = this.hierarchyFor(controller);
    return h ? this.dir(h, pod, child) : undefined;
  }

  private readIn(controller: Controller | 'cpuacct' | 'freezer', pod: string, child: string | undefined, name: string): string | undefined {
    const d = this.dirOf(controller, pod, child);
    return d === undefined ? undefined : readOptional(this.fs, path.join(d, name));
  }

  populated(pod: string, child?: string): boolean {
    if (this.unified) {
      const events = readOptional(this.fs, path.join(this.dir(this.unified, pod, child), 'cgroup.events'));
      if (parseKeyed(events).get('populated') === 1) return true;
    }
    return this.pids(pod, child).length > 0;
  }

  protected killFile(pod: string, child: string): string | undefined {
    return this.unified ? path.join(this.dir(this.unified, pod, child), 'cgroup.kill') : undefined;
  }

  async kill(pod: string): Promise<void> {
    if (!this.list.some((h) => this.fs.exists(this.dir(h, pod)))) return;
    // Hybrid: the v2 tree is controller-less but still has cgroup.kill, one atomic write.
    if (this.unified) {
      const killFile = path.join(this.dir(this.unified, pod), 'cgroup.kill');
      if (this.fs.exists(killFile)) {
        this.fs.write(killFile, '1');
        const deadline = Date.now() + Math.min(2_000, this.killTimeoutMs);
        for (let i = 0; this.populated(pod) && Date.now() < deadline; i++) await sleep(Math.min(50, 2 * (i + 1)));
      }
    }
    // Anything left (legacy host, or a process that joined only v1): freeze so nothing forks
    // while we list, SIGKILL, thaw so the frozen tasks can die, until the cgroups are empty.
    const freezerDir = this.dirOf('freezer', pod);
    const state = freezerDir && this.fs.exists(path.join(freezerDir, 'freezer.state')) ? path.join(freezerDir, 'freezer.state') : undefined;
    await this.killLoop(pod, {
      before: async () => {
        if (!state) return;
        this.fs.write(state, 'FROZEN');
        // FREEZING until every task stopped; a task stuck in D state may never get there.
        for (let i = 0; i < 50 && readOptional(this.fs, state)?.trim() !== 'FROZEN'; i++) await sleep(10);
      },
      after: () => {
        if (state) this.fs.write(state, 'THAWED');
      },
    });
  }

  async setFrozen(pod: string, child: string | undefined, frozen: boolean): Promise<void> {
    const dir = this.dirOf('freezer', pod, child);
    if (dir === undefined) {
      throw new HostError('pause: the freezer cgroup controller is not mounted on this host', {
        hint: 'mount the v1 freezer hierarchy at /sys/fs/cgroup/freezer',
      });
    }
    const state = path.join(dir, 'freezer.state');
    const want = frozen ? 'FROZEN' : 'THAWED';
    // FREEZING until every task stopped; writing FROZEN again retries the ones that raced (runc does).
    const reached = (): boolean => {
      if (readOptional(this.fs, state)?.trim() === want) return true;
      if (frozen) this.fs.write(state, want);
      return false;
    };
    this.fs.write(state, want);
    if (await this.waitFor(reached, this.freezeTimeoutMs)) return;
    if (frozen) {
      this.fs.write(state, 'THAWED');
      throw new HostError(`freeze ${dir}: still FREEZING after ${this.freezeTimeoutMs} ms`, {
        hint: 'a process in uninterruptible sleep (D state) cannot be frozen',
      });
    }
  }

  isFrozen(pod: string, child?: string): boolean {
    const state = this.readIn('freezer', pod, child, 'freezer.state')?.trim();
    return state === 'FROZEN' || state === 'FREEZING';
  }

  oomKillCount(pod: string, child: string): number {
    return parseKeyed(this.readIn('memory', pod, child, 'memory.oom_control')).get('oom_kill') ?? 0;
  }

  /** Dirs of the cgroup and its ancestors up to the pod, innermost first, in one controller. */
  private chain(controller: Controller, pod: string, child?: string): string[] {
    const h = this.hierarchyFor(controller);
    if (!h) return [];
    const out = [this.dir(h, pod, child)];
    if (child) out.push(this.dir(h, pod));
    return out;
  }

  private tightest(controller: Controller, pod: string, child: string | undefined, file: string): number | null {
    let best: number | null = null;
    for (const d of this.chain(controller, pod, child)) {
      const v = parseLimit(readOptional(this.fs, path.join(d, file)));
      if (typeof v === 'number' && (best === null || v < best)) best = v;
    }
    return best;
  }

  effectiveLimits(pod: string, child?: string): EffectiveLimits {
    let cpu: number | null = null;
    for (const d of this.chain('cpu', pod, child)) {
      const quota = parseLimit(readOptional(this.fs, path.join(d, 'cpu.cfs_quota_us')));
      const period = parseLimit(readOptional(this.fs, path.join(d, 'cpu.cfs_period_us')));
      if (typeof quota === 'number' && typeof period === 'number' && period > 0) {
        const m = (quota / period) * 1000;
        if (cpu === null || m < cpu) cpu = m;
      }
    }
    const mem = parseLimit(this.readIn('memory', pod, child, 'memory.limit_in_bytes'));
    const memsw = parseLimit(this.readIn('memory', pod, child, 'memory.memsw.limit_in_bytes'));
    const shares = parseLimit(this.readIn('cpu', pod, child, 'cpu.shares'));
    const out: EffectiveLimits = {
      memoryMaxBytes: this.tightest('memory', pod, child, 'memory.limit_in_bytes'),
      memoryMinBytes: parseLimit(this.readIn('memory', pod, child, 'memory.soft_limit_in_bytes')) ?? 0,
      swapMaxBytes: typeof mem === 'number' && typeof memsw === 'number' ? memsw - mem : null,
      cpuLimitMilli: cpu,
      pidsMax: this.tightest('pids', pod, child, 'pids.max'),
    };
    if (typeof shares === 'number') out.cpuShares = shares;
    return out;
  }

  stats(pod: string, child?: string): CgroupStats {
    const acct = parseKeyed(this.readIn('cpuacct', pod, child, 'cpuacct.stat'));
    const cpu = parseKeyed(this.readIn('cpu', pod, child, 'cpu.stat'));
    const mem = parseKeyed(this.readIn('memory', pod, child, 'memory.stat'));
    const current = parseLimit(this.readIn('memory', pod, child, 'memory.usage_in_bytes')) ?? 0;
    const inactive = mem.get('total_inactive_file') ?? mem.get('inactive_file') ?? 0;
    return {
      cpuUsageNs: parseLimit(this.readIn('cpuacct', pod, child, 'cpuacct.usage')) ?? 0,
      cpuUserNs: (acct.get('user') ?? 0) * NS_PER_USER_HZ,
      cpuSystemNs: (acct.get('system') ?? 0) * NS_PER_USER_HZ,
      nrPeriods: cpu.get('nr_periods') ?? 0,
      nrThrottled: cpu.get('nr_throttled') ?? 0,
      throttledNs: cpu.get('throttled_time') ?? 0,
      memoryCurrentBytes: current,
      memoryWorkingSetBytes: Math.max(0, current - inactive),
      memoryLimitBytes: this.tightest('memory', pod, child, 'memory.limit_in_bytes'),
      pidsCurrent: parseLimit(this.readIn('pids', pod, child, 'pids.current')) ?? 0,
      pidsMax: this.tightest('pids', pod, child, 'pids.max'),
    };
  }
}
