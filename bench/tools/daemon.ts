/**
 * The minipod daemon under test (src/daemon/server.ts): one per run dir, started on demand by
 * `minipod run`, supervising every pod, with a warm pool of booted helpers.
 *
 * minipod is measured in three states, and this module puts the daemon in each of them
 * outside the timed part:
 *
 * - `default` ("warm"): the daemon runs with its default pool, has served pods of the kinds
 *   the next measurement runs since it started (WARM_UP_PODS of each: an attached one-container
 *   pod without network, one with the bridge, a detached 3-container bridge pod with `run -d`
 *   + `rm -f`), so no first-use cost of the daemon's code paths, of the bridge or of its
 *   iptables chains, and none of the heap growth of its first pods, falls into a measured run
 *   or a memory sample; and `minipod daemon settle` has filled the pool. This is the steady
 *   state of a host that runs pods.
 * - `nopool`: the same, but the daemon was started with MINIPOD_WARM_SANDBOXES=0, so every pod
 *   spawns its helpers on its start path. Only the pool differs from `default`.
 * - cold: no daemon runs (`minipod daemon stop`); the timed `minipod run` starts one.
 *
 * Fairness: `settle()` before every timed minipod run (the pool is full and nothing boots in
 * the background) and right after every minipod measurement, before another tool's timed run
 * (the refill a pod's start or stop schedules 250 ms later cannot overlap a peer's run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { GuardFailed, run, sleep } from '../exec.js';
import { listProcs } from '../procfs.js';
import { type MinipodEnv, podDown, podUp, runAttached, writePod } from './minipod.js';
import { DEFAULT_POOL_POLICY } from '../../src/daemon/pool-policy.js';

export type DaemonVariant = 'default' | 'nopool';

/** Warm-up pods of each kind (see above) a daemon serves untimed before it counts as warm for that kind. */
export const WARM_UP_PODS = 2;

/** What a warm-up pod exercises: attached one-container, network none / bridge; detached 3-container bridge pod. */
export type WarmUpKind = 'none' | 'bridge' | 'detached';

export const ALL_WARM_UPS: WarmUpKind[] = ['none', 'bridge', 'detached'];

/** A little more than the pool's burst gap: two pod starts closer than that are back to back. */
export const BURST_GAP_MS = DEFAULT_POOL_POLICY.burstGapMs + 100;

const WARM_UP_MARKER = 'minipod-bench-daemon-warm-up';

export interface DaemonStatus {
  running: boolean;
  pid?: number;
  pods?: string[];
  warm?: { sandboxes: number; helpers: number };
  memory?: { rss: number; heapUsed: number };
  uptimeSeconds?: number;
}

interface Tracked {
  pid: number;
  variant: DaemonVariant;
  /** The kinds of untimed warm-up pods it has served. */
  warmedUp: Set<WarmUpKind>;
}

export class DaemonControl {
  private tracked?: Tracked;
  private readonly warmUpManifests: Record<'none' | 'bridge', string>;
  private readonly warmUpDetached?: string;
  /** Events worth a line in the report (a daemon that was gone when it should have run). */
  readonly anomalies: string[] = [];

  constructor(
    private readonly m: MinipodEnv,
    image: string,
    private readonly log: (message: string) => void,
  ) {
    const command = ['/bin/sh', '-c', `echo ${WARM_UP_MARKER}`];
    this.warmUpManifests = {
      none: writePod(m, 'mpb-warm-up-none', image, 'none', [{ name: 'c', command }]),
      bridge: writePod(m, 'mpb-warm-up-bridge', image, 'bridge', [{ name: 'c', command }]),
    };
    if (m.detach) {
      const sleeper = ['/bin/sh', '-c', 'exec sleep 100000'];
      this.warmUpDetached = writePod(
        m,
        'mpb-warm-up-pod',
        image,
        'bridge',
        ['a', 'b', 'c'].map((name) => ({ name, command: sleeper })),
      );
    }
  }

  /**
   * One warm-up pod. When no daemon runs, the first one starts it (as any `minipod run`
   * does) with the variant's environment.
   */
  private async warmUpPod(kind: WarmUpKind, variant: DaemonVariant): Promise<void> {
    if (kind !== 'detached') {
      await runAttached(this.m, this.warmUpManifests[kind], WARM_UP_MARKER, this.env(variant));
    } else if (this.warmUpDetached) {
      const pod = await podUp(this.m, 'mpb-warm-up-pod', this.warmUpDetached, true, 1, this.env(variant));
      await podDown(this.m, pod);
    }
  }

  /** The environment `minipod` gets for this variant (the daemon inherits its starter's). */
  env(variant: DaemonVariant): NodeJS.ProcessEnv {
    return variant === 'nopool' ? { ...this.m.env, MINIPOD_WARM_SANDBOXES: '0' } : this.m.env;
  }

  get variant(): DaemonVariant | undefined {
    return this.tracked?.variant;
  }

  get pid(): number | undefined {
    return this.tracked?.pid;
  }

  /** The pid in daemon.pid, if that process lives. */
  pidFromFile(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.m.runDir, 'daemon.pid'), 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  private async cli(args: string[], env = this.m.env): Promise<string> {
    const r = await run(this.m.bin, args, { env, timeoutMs: 150_000 });
    if (r.code !== 0) throw new GuardFailed(`minipod ${args.join(' ')}: code=${r.code}\n${r.stderr.slice(-1500)}`);
    return r.stdout;
  }

  async status(): Promise<DaemonStatus> {
    return JSON.parse(await this.cli(['daemon', 'status', '--format', 'json'])) as DaemonStatus;
  }

  /**
   * `minipod daemon settle` (untimed): the pool is full and booted. Fails when the daemon we
   * put in place is no longer the one running: the premise of a warm measurement is gone.
   */
  async settle(): Promise<void> {
    await this.cli(['daemon', 'settle']);
    const pid = this.pidFromFile();
    if (!this.tracked || pid !== this.tracked.pid) {
      const what = `minipod daemon ${this.tracked ? `${this.tracked.pid} (${this.tracked.variant})` : '(none expected)'} replaced by ${pid ?? 'nothing'}`;
      this.tracked = undefined;
      throw new GuardFailed(what);
    }
  }

  /**
   * settle(), then a pause of BURST_GAP_MS: the next pod is not taken for the next of a burst.
   * Two pod starts closer than the pool's burst gap (src/daemon/pool-policy.ts, burstGapMs)
   * are back to back, and then the claim refills the pool at once, beside the pod; a settled
   * row measures a pod that comes to an idle daemon, as after any pause (the back-to-back
   * rows measure bursts).
   */
  async quiet(): Promise<void> {
    await this.settle();
    await sleep(BURST_GAP_MS);
  }

  /** `minipod daemon stop`: stops its pods and exits; waits until the process is gone. */
  async stop(): Promise<void> {
    const pid = this.pidFromFile();
    await this.cli(['daemon', 'stop']);
    for (let i = 0; pid !== undefined && i < 500; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await sleep(10);
    }
    this.tracked = undefined;
  }

  /** After a timed run that started the daemon (the cold row): that daemon is `default`. */
  adoptStarted(): void {
    const pid = this.pidFromFile();
    if (!pid) throw new GuardFailed('minipod run returned but no daemon runs');
    this.tracked = { pid, variant: 'default', warmedUp: new Set() };
  }

  /**
   * Puts the daemon in `variant`, warmed up for `kinds` and settled; untimed. Restarts it when
   * another variant (or none, or an unknown one) runs.
   */
  async use(variant: DaemonVariant, kinds: WarmUpKind[] = ALL_WARM_UPS): Promise<void> {
    const pid = this.pidFromFile();
    if (this.tracked && pid !== this.tracked.pid) {
      const note = `minipod daemon ${this.tracked.pid} (${this.tracked.variant}) was gone before a measurement; restarted it`;
      this.anomalies.push(note);
      this.log(note);
      this.tracked = undefined;
    }
    if (this.tracked?.variant !== variant) {
      if (pid !== undefined) await this.stop();
      this.tracked = undefined;
    }
    const missing = kinds.filter((k) => !this.tracked?.warmedUp.has(k) && (k !== 'detached' || this.warmUpDetached));
    if (!this.tracked && missing.length === 0) missing.push('none');
    if (missing.length > 0) {
      const fresh = !this.tracked;
      for (let i = 0; i < WARM_UP_PODS; i++) for (const k of missing) await this.warmUpPod(k, variant);
      const started = this.pidFromFile();
      if (!started) throw new GuardFailed('no minipod daemon after the warm-up runs');
      if (this.tracked && this.tracked.pid !== started) throw new GuardFailed('the minipod daemon changed during its warm-up');
      this.tracked ??= { pid: started, variant, warmedUp: new Set() };
      for (const k of missing) this.tracked.warmedUp.add(k);
      await this.settle();
      const s = await this.status();
      const sandboxes = s.warm?.sandboxes ?? 0;
      if (variant === 'nopool' ? sandboxes !== 0 : sandboxes === 0) {
        throw new GuardFailed(`minipod daemon ${started} (${variant}): ${sandboxes} warm sandboxes`);
      }
      this.log(`minipod daemon ${started} (${variant})${fresh ? ' started and' : ''} warmed up: ${WARM_UP_PODS} x ${missing.join(', ')}`);
    }
    await this.settle();
  }

  /**
   * The daemon's children that are pooled helpers (node .../helper-main.js), to be called
   * while it runs no pod: then every helper it has is in the pool.
   */
  poolHelpers(): number[] {
    const pid = this.tracked?.pid;
    if (!pid) return [];
    return listProcs()
      .filter((p) => p.ppid === pid && /helper-main\.js/.test(p.args))
      .map((p) => p.pid);
  }

  /**
   * The pool's conmons (conmon mode, src/pod/held-pool.ts) and the processes below them (their
   * `minipod-oci create` and its helper): conmon double-forks, so they are not the daemon's
   * children. To be called while no pod runs; a claimed entry (its `pod` file) is not counted.
   */
  pooledConmonProcs(): number[] {
    const dir = path.join(this.m.runDir, 'conmon-pool');
    let ids: string[];
    try {
      ids = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const roots = new Set<number>();
    for (const id of ids) {
      if (fs.existsSync(path.join(dir, id, 'pod'))) continue;
      try {
        const pid = Number(fs.readFileSync(path.join(dir, id, 'conmon.pid'), 'utf8').trim());
        if (pid > 0) roots.add(pid);
      } catch {
        // Not started yet, or drained meanwhile.
      }
    }
    const procs = listProcs();
    const found = new Set<number>(procs.filter((p) => roots.has(p.pid)).map((p) => p.pid));
    for (let grew = true; grew;) {
      grew = false;
      for (const p of procs) {
        if (found.has(p.ppid) && !found.has(p.pid)) {
          found.add(p.pid);
          grew = true;
        }
      }
    }
    return [...found];
  }

  /** Best effort for the end and the error path: no daemon of ours outlives the bench. */
  async shutdown(): Promise<string[]> {
    const problems: string[] = [];
    const pid = this.pidFromFile();
    try {
      await this.stop();
    } catch (err) {
      problems.push(`minipod daemon stop: ${(err as Error).message.split('\n')[0]}`);
    }
    const left = this.pidFromFile() ?? (pid !== undefined && alive(pid) ? pid : undefined);
    if (left !== undefined) {
      problems.push(`minipod daemon ${left} still ran after \`daemon stop\`: killed`);
      try {
        process.kill(left, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
      await run(this.m.bin, ['gc'], { env: this.m.env, timeoutMs: 30_000 }).catch(() => undefined);
    }
    this.tracked = undefined;
    return problems;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
