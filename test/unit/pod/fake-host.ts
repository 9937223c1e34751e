/**
 * A fake PodHost for the supervisor's sequence tests: helpers are plain objects whose exits
 * the test (or a script of exit codes per container) decides; every call is logged in order.
 * Signals behave like the kernel's for the fake processes: SIGTERM/SIGKILL end a running one.
 */
import type { SysctlWrite } from '../../../src/pod/sysctls.js';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { NamespaceEntry } from '../../../src/namespaces/pod-namespaces.js';
import type { HelperPlan } from '../../../src/plan/types.js';
import { HelperFailed, type Helper } from '../../../src/process/helper-client.js';
import type { HeldContainerHost, HelperExit, PodHost, PodTeardownOptions } from '../../../src/pod/host.js';
import { ContainerCreateFailed } from '../../../src/conmon/spawn.js';
import type { HeldContainer, ProcessRef } from '../../../src/state/pod-state.js';
import { signalExitCode } from '../../../src/pod/restart-policy.js';
import type { ResolvedImage } from '../../../src/images/types.js';
import type { PodNetworkStatus } from '../../../src/network/types.js';
import type { ActionRunner } from '../../../src/probes/index.js';
import { podLayout } from '../../../src/paths.js';
import type { MinipodPaths } from '../../../src/paths.js';

export interface SentPlan {
  pid: number;
  plan: HelperPlan;
}

export class FakeHost implements PodHost {
  readonly log: string[] = [];
  readonly plans: SentPlan[] = [];
  readonly helpers: Helper[] = [];
  /** Exit codes per container name, one per start, taken in order once its plan was sent. */
  readonly script: Record<string, number[]> = {};
  /**
   * Per container name (conmon mode): the container exits with this code, and conmon says so,
   * before `start` returns, as a fast program does on a busy host (the daemon's read of the
   * exec fifo comes after the exit file's inotify event).
   */
  readonly exitsDuringStart: Record<string, number> = {};
  /** Per container name: the helper reports this failure instead of exec'ing. */
  readonly execFailures: Record<string, HelperFailed> = {};
  initBinary: string | undefined = '/usr/bin/catatonit';
  networkFailure?: Error;
  private nextPid = 1000;
  private readonly exits = new Map<number, (e: HelperExit) => void>();
  private readonly exited = new Set<number>();
  private readonly running = new Set<number>();
  /** Exit statuses of held containers, kept like conmon's exit files (read after a daemon's death too). */
  private readonly heldStatus = new Map<number, number>();
  private readonly heldWaiters = new Map<number, (status: number | null) => void>();
  /** conmon mode: set by enableHeld(). */
  held?: HeldContainerHost;

  constructor(private readonly paths: MinipodPaths) {}

  /** Containers are held by (fake) conmons: create, start, an exit file per container. */
  enableHeld(): void {
    const pidOf = (held: HeldContainer): number => held.conmon.pid - 50_000;
    this.held = {
      create: async (r) => {
        const pid = this.nextPid++;
        const pooled = r.pooled ? ` pooled ${r.pooled.id}` : '';
        this.log.push(`create ${r.container} ${pid} ${r.namespaces.join?.namespaces.join(',')}@${r.namespaces.join?.pid}${pooled}`);
        this.plans.push({ pid, plan: r.plan });
        const failure = this.execFailures[r.container];
        if (failure) throw new ContainerCreateFailed(failure.message);
        const held = {
          id: `${r.pod}_${r.container}`,
          conmon: { pid: pid + 50_000, startTime: 1 },
          bundle: '/b',
          exitDir: '/e',
          oomBaseline: 0,
        };
        return { held, pid };
      },
      start: async (held) => {
        const pid = pidOf(held);
        this.log.push(`start ${pid}`);
        this.running.add(pid);
        const fast = this.exitsDuringStart[held.id.split('_')[1]!];
        if (fast !== undefined) {
          this.exit(pid, fast);
          // The watcher hears of it (and its handlers run) before start returns.
          await new Promise((r) => setImmediate(r));
          return;
        }
        const code = this.script[held.id.split('_')[1]!]?.shift();
        if (code !== undefined) setImmediate(() => this.exit(pid, code));
      },
      exit: (held) => {
        const pid = pidOf(held);
        const exited = new Promise<number | null>((resolve) => {
          const known = this.heldStatus.get(pid);
          if (known !== undefined) setImmediate(() => resolve(known));
          else this.heldWaiters.set(pid, resolve);
        });
        return { exited, cancel: () => this.heldWaiters.delete(pid) };
      },
      followLog: () => () => {},
      remove: (held) => this.log.push(`remove ${held.id}`),
      discardPooled: (entry) => this.log.push(`discard-pooled ${entry.id}`),
    };
  }

  isAlive(ref: ProcessRef): boolean {
    return !this.exited.has(ref.pid);
  }

  findInitBinary(): string | undefined {
    return this.initBinary;
  }

  spawnHelper(namespaces: NamespaceEntry, options: { stdin?: boolean } = {}): Helper {
    const pid = this.nextPid++;
    const helper: Helper = {
      child: Object.assign(new EventEmitter(), { stdin: options.stdin ? new PassThrough() : null }) as unknown as ChildProcess,
      pid,
      control: undefined as unknown as Socket,
      booted: Promise.resolve(true),
      isBooted: true,
      closed: new Promise(() => {}),
      stdout: new PassThrough(),
      stderr: new PassThrough(),
    };
    this.helpers.push(helper);
    const ns = [
      ...namespaces.create.map((n) => `+${n}`),
      ...(namespaces.join?.namespaces ?? []).map((n) => `${n}@${namespaces.join!.pid}`),
    ];
    this.log.push(`spawn ${pid} ${ns.join(',')}`);
    return helper;
  }

  async sendPlan(helper: Helper, plan: HelperPlan): Promise<void> {
    this.plans.push({ pid: helper.pid, plan });
    this.log.push(`plan ${plan.id} -> ${helper.pid}`);
    const container = plan.id.split('/')[1]!;
    const failure = this.execFailures[container];
    if (plan.kind === 'container' && failure) {
      setImmediate(() => this.exit(helper.pid, failure.exitCode));
      throw failure;
    }
    this.running.add(helper.pid);
    const code = plan.kind === 'container' ? this.script[container]?.shift() : undefined;
    if (code !== undefined) setImmediate(() => this.exit(helper.pid, code));
  }

  helperExit(helper: Helper): Promise<HelperExit> {
    return new Promise((resolve) => this.exits.set(helper.pid, resolve));
  }

  /** The fake process `pid` exits. */
  exit(pid: number, code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited.has(pid)) return;
    this.exited.add(pid);
    this.running.delete(pid);
    this.log.push(`exit ${pid} ${signal ?? code}`);
    const helper = this.helpers.find((h) => h.pid === pid);
    helper?.child.emit('exit', code, signal);
    this.exits.get(pid)?.({ code, signal });
    this.heldStatus.set(pid, signalExitCode(signal, code));
    this.heldWaiters.get(pid)?.(signalExitCode(signal, code));
    this.heldWaiters.delete(pid);
  }

  discardHelper(helper: Helper): void {
    this.log.push(`discard ${helper.pid}`);
  }

  signal(pid: number, signal: NodeJS.Signals): void {
    this.log.push(`signal ${pid} ${signal}`);
    if (this.running.has(pid) && (signal === 'SIGTERM' || signal === 'SIGKILL')) setImmediate(() => this.exit(pid, null, signal));
  }

  async resolveImage(image: string, options: { fieldPath?: string }): Promise<ResolvedImage> {
    this.log.push(`image ${options.fieldPath} ${image}`);
    return { id: `dir:${image}`, layers: ['/nonexistent/layer'], config: {} };
  }

  async unpinImages(pod: string): Promise<void> {
    this.log.push(`unpin ${pod}`);
  }

  async checkHostPorts(): Promise<void> {
    this.log.push('ports checked');
  }

  async setupNetwork(options: { netnsPath?: string }): Promise<PodNetworkStatus> {
    this.log.push(`network ${options.netnsPath}`);
    if (this.networkFailure) throw this.networkFailure;
    return { mode: 'bridge', ip: '10.88.0.2', prefixLength: 16, gateway: '10.88.0.1', interface: 'eth0' } as PodNetworkStatus;
  }

  readHostResolvConf(): { text: string; upstream?: string } {
    return { text: 'nameserver 192.0.2.53\n' };
  }

  applySysctls(initPid: number, writes: SysctlWrite[]): void {
    if (writes.length > 0) this.log.push(`sysctls@${initPid} ${writes.map((w) => `${w.name}=${w.value}`).join(' ')}`);
  }

  actionRunner(): ActionRunner {
    throw new Error('no probes in these tests');
  }

  async teardown(pod: string, options: PodTeardownOptions): Promise<void> {
    this.log.push(`teardown ${pod} keepState=${options.keepState ?? false}`);
    // Like the real one: every process of the pod dies, and its directories go.
    for (const pid of [...this.running]) this.exit(pid, null, 'SIGKILL');
    const layout = podLayout(this.paths, pod);
    fs.rmSync(layout.libDir, { recursive: true, force: true });
    if (!options.keepState) fs.rmSync(layout.runDir, { recursive: true, force: true });
  }

  /** The log without the noise of a category. */
  steps(...prefixes: string[]): string[] {
    return this.log.filter((l) => prefixes.some((p) => l.startsWith(p)));
  }
}
