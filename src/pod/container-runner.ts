/**
 * One container of a pod, across its restarts: its helper, its plan, the exec, the exit and
 * its reason, the restart with back-off, postStart, probes, and kubelet's kill.
 *
 * The pod (src/pod/supervisor.ts) decides what an exit means for the pod; the runner only
 * records it and restarts when asked. Each runner carries its own restart policy: the pod's for
 * app containers, OnFailure (Never when the pod's is) for init containers, and Always for a
 * restartable init container (a sidecar), which restarts on its own whatever the pod's policy.
 */
import type { CgroupManager } from '../cgroups/manager.js';
import { inStep } from '../errors.js';
import { imageStopSignal } from '../images/signal.js';
import type { ResolvedImage } from '../images/types.js';
import { CriLogWriter, criLineJoiner, type LogStream } from '../logs/cri-log.js';
import type { ContainerSpec, PodSpec, RestartPolicy } from '../manifest/types.js';
import type { NamespaceEntry } from '../namespaces/pod-namespaces.js';
import type { LsmLabel, SeccompFilter } from '../plan/types.js';
import type { DownwardValues } from '../plan/downward.js';
import { ContainerProbes, runHandler } from '../probes/index.js';
import { HelperFailed, type Helper } from '../process/helper-client.js';
import { type ContainerState, type HeldContainer, processRef } from '../state/pod-state.js';
import type { ContainerPlan } from '../plan/types.js';
import { creatingState, runningState, terminatedState } from './container-state.js';
import { ContainerCreateFailed } from '../conmon/spawn.js';
import type { PooledHeld } from './held-pool.js';
import type { CgroupJoins } from './cgroup-join.js';
import { planContainerStart } from './container-plan.js';
import { prepareContainerDirs } from './container-files.js';
import type { PodHost } from './host.js';
import { type ContainerLayout, containerLayout, type PodLayout } from '../paths.js';
import { nextRestart, shouldRestart, signalExitCode } from './restart-policy.js';
import type { PreparedVolumes } from './volumes.js';
import { guardOom, oomVerdict } from './oom-guard.js';
import type { UsernsPod } from '../userns/pod.js';

export interface SupervisorOutput {
  /** A line of container output; attached runs print it with the container's name. */
  line(container: string, stream: LogStream, text: string): void;
  /** minipod's own messages about the pod (container exited, restarting, ...). */
  event(message: string): void;
}

/** What a runner needs from its pod. */
export interface RunnerPod {
  readonly spec: PodSpec;
  readonly layout: PodLayout;
  readonly host: PodHost;
  readonly cgroups: CgroupManager;
  readonly joins: CgroupJoins;
  readonly output: SupervisorOutput;
  /** True once the pod is being stopped or torn down: nothing starts any more. */
  stopping(): boolean;
  /** Containers are held by conmon (host.held), not by the daemon: they outlive it. */
  readonly heldByConmon: boolean;
  /** Stream container output to `output.line` (an attached run); conmon's log file is followed for it. */
  readonly streamsLines: boolean;
  /** The namespaces a fresh helper of this container is spawned into. */
  namespaces(spec: ContainerSpec): NamespaceEntry;
  /** The pod's own user namespace, when it has one. */
  userns(): UsernsPod | undefined;
  volumes(): PreparedVolumes;
  /** The downward API's values now (the pod IP once the network is up). */
  downward(): DownwardValues;
  /** A container's state changed: save the pod's state. */
  stateChanged(): void;
  /** The runner recorded an exit of its container. */
  exited(runner: ContainerRunner, exitCode: number, finishedAt: number): void;
  trace(step: string): void;
}

/** A sidecar is an init container with restartPolicy Always (Kubernetes 1.29+). */
export type ContainerKind = 'init' | 'sidecar' | 'app';

export class ContainerRunner {
  state: ContainerState;
  image?: ResolvedImage;
  /** The compiled seccomp filter, planned with the pod before anything exists; none when unset. */
  seccomp?: SeccompFilter;
  /** AppArmor/SELinux labels, planned with the pod before anything exists. */
  lsmLabels: LsmLabel[] = [];
  /** A helper spawned ahead of the start (or taken from the warm pool); the start uses it. */
  helper?: Helper;
  /** A pooled conmon (the warm pool's, conmon mode) the first start uses. */
  pooled?: PooledHeld;
  /** Resolves with the exit code when the current instance exits. */
  exited?: Promise<number>;
  /** Set when the helper reported that it could not exec. */
  private startFailure?: HelperFailed;
  private log?: CriLogWriter;
  /** Stops watching a held instance's exit file and following its log. */
  private unwatchHeld?: () => void;
  private startedAtMs = 0;
  private oomBaseline = 0;
  private stopOomGuard?: () => void;
  private backoffs = 0;
  private restartTimer?: { timer: NodeJS.Timeout; cancel: () => void };
  private probes?: ContainerProbes;
  /** Why minipod killed the current instance (a failed probe or hook), for its reason. */
  private killedBecause?: string;
  /** Resolves the first time an instance counts as started (see whenStarted). */
  private readonly startedOnce: Promise<void>;
  private resolveStarted!: () => void;

  constructor(
    private readonly pod: RunnerPod,
    readonly spec: ContainerSpec,
    readonly kind: ContainerKind,
    readonly restartPolicy: RestartPolicy,
  ) {
    this.startedOnce = new Promise((resolve) => (this.resolveStarted = resolve));
    this.state = creatingState(spec.name, spec.image, kind, containerLayout(pod.layout, spec.name).logPath);
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * Resolves once an instance has started as Kubernetes counts it for a sidecar: its process
   * runs, its postStart hook succeeded and its startup probe (if any) passed. The next init
   * container waits for this, not for an exit.
   */
  whenStarted(): Promise<void> {
    return this.startedOnce;
  }

  isRunning(): boolean {
    return this.state.state === 'running' && this.state.pid !== undefined;
  }

  private markStarted(pid: number): void {
    if (this.state.pid !== pid) return;
    this.state.started = true;
    this.pod.stateChanged();
    this.resolveStarted();
  }

  /** True while a restart waits for its back-off. */
  get restartPending(): boolean {
    return this.restartTimer !== undefined;
  }

  /** Spawns a helper into the container's namespaces (stdin: a pipe closed at once, as `run` has no input to give). */
  spawnHelper(): Helper {
    const helper = this.pod.host.spawnHelper(this.pod.namespaces(this.spec), {
      stdin: this.spec.stdin,
      userNamespace: this.pod.userns()?.namespacePath(),
    });
    if (this.spec.stdin) helper.child.stdin?.end();
    return helper;
  }

  /** Starts an instance: plan, exec, then postStart and probes. A helper that cannot exec is recorded, not thrown. */
  start = (): Promise<void> => inStep(`start container ${this.spec.name} of pod ${this.pod.spec.name}`, () => this.startInstance());

  private async startInstance(): Promise<void> {
    if (this.pod.heldByConmon) return this.startHeld();
    const { pod, spec } = this;
    const helper = this.helper ?? this.spawnHelper();
    const joinProcs = await pod.joins.procsToJoin(helper, spec.name);
    this.helper = undefined;
    this.startFailure = undefined;
    // Set again at the exec; a start that fails counts as a run of zero length for the back-off.
    this.startedAtMs = Date.now();
    const layout = prepareContainerDirs(pod.layout, spec.name, this.state.restartCount > 0);
    const log = new CriLogWriter(layout.logPath, (stream, text) => pod.output.line(spec.name, stream, text));
    this.log = log;
    helper.stdout?.on('data', (d: Buffer) => log.write('stdout', d));
    helper.stderr?.on('data', (d: Buffer) => log.write('stderr', d));
    this.exited = pod.host.helperExit(helper).then(({ code, signal }) => this.onExit(signalExitCode(signal, code)));

    this.oomBaseline = pod.cgroups.oomKillCount(pod.spec.name, spec.name);
    const plan = this.plan(layout);
    if (!plan) return void helper.child.kill('SIGKILL'); // the helper waiting for its plan goes
    try {
      // In a user namespace the supervisor mounts the root and joins the cgroups (src/userns/pod.ts).
      const userns = pod.userns();
      const sent = userns
        ? await userns.prepareContainer(plan, helper, joinProcs, () => pod.cgroups.addProcess(pod.spec.name, spec.name, helper.pid))
        : { ...plan, cgroupProcs: joinProcs };
      pod.trace(`container ${spec.name} plan sent`);
      await pod.host.sendPlan(helper, sent).finally(() => userns?.afterExec(plan));
      pod.trace(`container ${spec.name} exec'd`);
      this.startedAtMs = Date.now();
      this.recordRunning(helper.pid, undefined);
    } catch (err) {
      if (!(err instanceof HelperFailed)) throw err;
      this.startFailure = err;
      pod.output.event(`container ${spec.name} could not start: ${err.message}`);
      return;
    }
    await this.afterStart(helper.pid);
  }

  /** The plan (the process record is written from it), or undefined, recorded as a start error. */
  private plan(layout: ContainerLayout): ContainerPlan | undefined {
    const made = planContainerStart(this.pod, this.spec, layout, { image: this.image!, seccomp: this.seccomp, lsmLabels: this.lsmLabels });
    if (!(made instanceof HelperFailed)) return made;
    this.startFailure = made;
    this.pod.output.event(`container ${this.spec.name} could not start: ${made.message}`);
    return undefined;
  }

  /**
   * Starts an instance under its own conmon (docs/architecture.md): create through the OCI
   * runtime, then let it run; its exit comes from conmon's exit file, its output from conmon's
   * log. A create the runtime refused is recorded as a StartError, not thrown.
   */
  private async startHeld(): Promise<void> {
    const { pod, spec } = this;
    const held = pod.host.held!;
    this.startFailure = undefined;
    this.startedAtMs = Date.now();
    const layout = prepareContainerDirs(pod.layout, spec.name, this.state.restartCount > 0);
    const oomBaseline = pod.cgroups.oomKillCount(pod.spec.name, spec.name);
    const pooled = this.pooled;
    this.pooled = undefined;
    const plan = this.plan(layout);
    if (!plan) {
      if (pooled) held.discardPooled(pooled);
      return void (this.exited = Promise.resolve().then(() => this.onExit(125)));
    }
    let created: { held: HeldContainer; pid: number };
    try {
      created = await held.create({
        plan,
        namespaces: pod.namespaces(spec),
        pod: pod.spec.name,
        container: spec.name,
        podRunDir: pod.layout.runDir,
        logPath: layout.logPath,
        oomBaseline,
        pooled,
        stdin: spec.stdin,
      });
      pod.trace(`container ${spec.name} created`);
    } catch (err) {
      if (!(err instanceof ContainerCreateFailed)) throw err;
      const code = err.exitCode;
      this.startFailure = new HelperFailed(err.message, code);
      pod.output.event(`container ${spec.name} could not start: ${err.message}`);
      this.exited = Promise.resolve().then(() => this.onExit(code));
      return;
    }
    // Its exit is handled once the start is recorded: a fast program's exit file can be seen while start
    // still waits (inotify beats the timer reading the init's byte on a busy host); recorded running after it, it never ends.
    const start = held.start(created.held).then(() => {
      pod.trace(`container ${spec.name} started`);
      this.startedAtMs = Date.now();
      this.recordRunning(created.pid, created.held);
    });
    this.watchHeld(
      created.held,
      start.catch(() => undefined),
    );
    try {
      await start;
    } catch (err) {
      pod.output.event(`container ${spec.name} could not start: ${(err as Error).message}`);
      pod.host.signal(created.pid, 'SIGKILL');
      return;
    }
    await this.afterStart(created.pid);
  }

  private recordRunning(pid: number, held: HeldContainer | undefined): void {
    this.state = runningState(this.state, { pid, startTime: processRef(pid).startTime }, this.startedAtMs, !this.spec.readinessProbe, held);
    this.pod.stateChanged();
    this.stopOomGuard = guardOom(this.pod, this.pod.spec.name, this.spec.name, this.oomBaseline);
  }

  /** Watches a held instance: its exit file (handled once `startRecorded` resolves), and its log for an attached run. */
  private watchHeld(held: HeldContainer, startRecorded: Promise<void> = Promise.resolve()): void {
    const { pod, spec } = this;
    const host = pod.host.held!;
    this.oomBaseline = held.oomBaseline;
    const watch = host.exit(held);
    const lines = criLineJoiner((stream, text) => pod.output.line(spec.name, stream, text));
    const stopFollowing = pod.streamsLines ? host.followLog(this.state.logPath, (raw) => lines.push(raw)) : undefined;
    const unfollow = stopFollowing && ((): void => (stopFollowing(), lines.flush()));
    this.unwatchHeld = () => {
      watch.cancel();
      unfollow?.();
    };
    this.exited = watch.exited.then(async (status) => {
      await startRecorded;
      unfollow?.();
      // conmon died without a word: kubelet's ContainerStatusUnknown (137).
      const code = status === null ? this.onExit(137, 'ContainerStatusUnknown') : this.onExit(status);
      // After the exit is recorded: a pooled entry's exit file goes with its bundle.
      host.remove(held);
      return code;
    });
  }

  /**
   * Takes over an instance held by conmon that a previous daemon started (adoption): its exit
   * is watched again, probes resume (postStart is not run again: it ran, or was running, then).
   * An exit recorded while no daemon ran is read at once and handled like any other.
   */
  adopt(saved: ContainerState): void {
    this.state = saved;
    this.startedAtMs = Date.parse(saved.startedAt ?? '') || Date.now();
    if (saved.started) this.resolveStarted();
    if (saved.state !== 'running' || !saved.held || saved.pid === undefined) return;
    this.watchHeld(saved.held);
    this.stopOomGuard = guardOom(this.pod, this.pod.spec.name, this.spec.name, this.oomBaseline);
    void this.resumeProbes(saved.pid);
  }

  private async resumeProbes(pid: number): Promise<void> {
    // One turn: an exit read from the file at once settles first.
    await new Promise((r) => setImmediate(r));
    if (this.state.pid !== pid || this.pod.stopping()) return;
    await this.afterStart(pid, true);
  }

  /** postStart, then probes (Kubernetes: probes start once postStart succeeded). */
  private async afterStart(pid: number, adopted = false): Promise<void> {
    const { pod, spec } = this;
    const postStart = adopted ? undefined : spec.lifecycle?.postStart;
    if (postStart) {
      const timeoutMs = pod.spec.terminationGracePeriodSeconds * 1000 || 30_000;
      const result = await runHandler(postStart, pod.host.actionRunner(pod.spec.name, spec.name), timeoutMs);
      if (this.state.pid !== pid || pod.stopping()) return;
      if (!result.success) {
        pod.output.event(`postStart hook of ${spec.name} failed: ${result.message}; killing the container`);
        this.kill('FailedPostStartHook');
        return;
      }
    }
    const { livenessProbe, readinessProbe } = spec;
    // An adopted instance that had started does not go through its startup probe again.
    const startupProbe = adopted && this.state.started ? undefined : spec.startupProbe;
    if (!startupProbe && !livenessProbe && !readinessProbe) {
      this.markStarted(pid);
      return;
    }
    const failed = (why: string, message: string): void => {
      if (this.state.pid !== pid) return;
      pod.output.event(`${why} of ${spec.name} failed: ${message}; killing the container`);
      this.kill(why === 'liveness probe' ? 'LivenessProbeFailed' : 'StartupProbeFailed');
    };
    this.probes = new ContainerProbes({
      probes: { startupProbe, livenessProbe, readinessProbe },
      run: pod.host.actionRunner(pod.spec.name, spec.name),
      onReadyChange: (ready) => {
        if (this.state.pid !== pid || this.state.ready === ready) return;
        this.state.ready = ready;
        pod.stateChanged();
      },
      onLivenessFailed: (last) => failed('liveness probe', last.message ?? ''),
      onStartupFailed: (last) => failed('startup probe', last.message ?? ''),
      onStarted: () => this.markStarted(pid),
    });
    this.probes.start();
  }

  /** The image's StopSignal (nginx: SIGQUIT) or SIGTERM, as kubelet sends it. */
  sendStopSignal(): void {
    if (this.state.pid) this.pod.host.signal(this.state.pid, imageStopSignal(this.image?.config.stopSignal));
  }

  /** kubelet's kill: the stop signal, SIGKILL after the grace period; the restart policy then applies. */
  kill(because: string): void {
    const pid = this.state.pid;
    if (!pid) return;
    this.killedBecause = because;
    this.stopProbes();
    this.sendStopSignal();
    const timer = setTimeout(() => {
      if (this.state.pid === pid) this.pod.host.signal(pid, 'SIGKILL');
    }, this.pod.spec.terminationGracePeriodSeconds * 1000);
    void this.exited?.then(() => clearTimeout(timer));
  }

  /** SIGKILL to the running instance and to a helper that waits for its plan. */
  killNow(): void {
    if (this.state.pid) this.pod.host.signal(this.state.pid, 'SIGKILL');
    if (this.helper) this.pod.host.signal(this.helper.pid, 'SIGKILL');
  }

  /** preStop (its time counts against the grace period, as in kubelet), then the stop signal. */
  async preStopThenSignal(deadline: number, runHook: boolean): Promise<void> {
    const preStop = this.spec.lifecycle?.preStop;
    if (preStop && runHook && this.state.state === 'running') {
      const result = await runHandler(
        preStop,
        this.pod.host.actionRunner(this.pod.spec.name, this.spec.name),
        Math.max(0, deadline - Date.now()),
      );
      if (!result.success) this.pod.output.event(`preStop hook of ${this.spec.name} failed: ${result.message}`);
    }
    this.sendStopSignal();
  }

  stopProbes(): void {
    this.probes?.stop();
  }

  closeLog(): void {
    this.log?.close();
  }

  /** Forgets the instance without touching it (the daemon hands its pods to a new one). */
  release(): void {
    this.stopProbes();
    this.stopOomGuard?.();
    this.unwatchHeld?.();
    this.unwatchHeld = undefined;
    if (this.restartTimer) clearTimeout(this.restartTimer.timer);
  }

  /** Whether this exit calls for another start, by the runner's own restart policy. */
  restartsAfter(exitCode: number): boolean {
    // A command that cannot run will not run on a retry either; kubelet keeps retrying, but an
    // attached user wants the error: restart only what actually ran.
    return !this.startFailure && shouldRestart(this.restartPolicy, exitCode);
  }

  /**
   * Starts the container again after the back-off (one rule for every kind: restart-policy.ts).
   * Resolves true once the new instance was started, false when the pod stopped meanwhile.
   */
  restart(exitCode: number): Promise<boolean> {
    const { pod, spec } = this;
    if (pod.spec.secretDataRemoved && spec.env.some((e) => e.secret)) {
      // An adopted pod's spec comes from spec.json, which never holds Secret values.
      return Promise.reject(
        new Error('its Secret values are not on disk for the daemon that adopted the pod: run the pod again from its manifests'),
      );
    }
    const { backoffs, delayMs } = nextRestart(this.backoffs, Date.now() - this.startedAtMs);
    this.backoffs = backoffs;
    this.state = { ...this.state, state: 'waiting', reason: delayMs > 0 ? 'CrashLoopBackOff' : 'Restarting' };
    if (this.kind === 'init') {
      pod.output.event(`init container ${spec.name} failed with exit code ${exitCode}; restarting in ${delayMs / 1000}s`);
    } else if (delayMs > 0) {
      pod.output.event(`restarting ${spec.name} in ${delayMs / 1000}s (restart ${this.state.restartCount + 1})`);
    }
    pod.stateChanged();
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.restartTimer = undefined;
        if (pod.stopping()) return resolve(false);
        this.state.restartCount++;
        this.start().then(() => resolve(true), reject);
      }, delayMs);
      this.restartTimer = { timer, cancel: () => resolve(false) };
    });
  }

  /** Cancels a pending restart (the pod stops). */
  cancelRestart(): void {
    if (!this.restartTimer) return;
    clearTimeout(this.restartTimer.timer);
    this.restartTimer.cancel();
    this.restartTimer = undefined;
  }

  /** Marks an instance that never got to exit (the pod was torn down) as terminated. */
  markStopped(): void {
    if (this.state.state !== 'terminated') {
      this.state = { ...this.state, state: 'terminated', pid: undefined, startTime: undefined, reason: this.state.reason ?? 'Stopped' };
    }
  }

  /** Records an exit and its reason; returns the exit code. */
  private onExit(status: number, unknownReason?: string): number {
    const { pod, spec } = this;
    let exitCode = status;
    let reason = unknownReason ?? (exitCode === 0 ? 'Completed' : 'Error');
    this.unwatchHeld = undefined;
    this.stopOomGuard?.();
    let message: string | undefined;
    this.stopProbes();
    this.probes = undefined;
    if (this.startFailure) {
      exitCode = this.startFailure.exitCode;
      reason = 'StartError';
      message = this.startFailure.message;
    } else if (this.killedBecause) {
      reason = this.killedBecause;
      this.killedBecause = undefined;
    } else if (!unknownReason && oomVerdict(exitCode, pod.cgroups.oomKillCount(pod.spec.name, spec.name) - this.oomBaseline).oomKilled) {
      // Any OOM kill in its cgroup (containerd's rule): oom-guard.ts killed the rest with it.
      [exitCode, reason] = [137, 'OOMKilled'];
    }
    this.log?.close();
    this.log = undefined;
    const finishedAt = Date.now();
    this.state = terminatedState(this.state, exitCode, reason, message, finishedAt);
    pod.trace(`container ${spec.name} exited`);
    if (!pod.stopping()) pod.output.event(`container ${spec.name} exited with code ${exitCode} (${reason})`);
    pod.exited(this, exitCode, finishedAt);
    return exitCode;
  }
}
