/**
 * The pod supervisor: creates a pod, keeps it going, and takes it down; one object per pod, in
 * the daemon (src/daemon/server.ts). It owns the pod's cgroups, network, host mounts and state
 * file; each container is a ContainerRunner (container-runner.ts), held by its own conmon or
 * by the daemon; everything reaching the host goes through a PodHost (host.ts), so this
 * sequence is unit-tested against a fake host (test/unit/pod). A pod whose containers conmon
 * holds outlives its daemon: the next one adopts it (`adopt`, adoption.ts).
 *
 * Start, in order (docs/architecture.md has the why of each step):
 *  1. claim the name (mkdir of the pod's run dir), write a Pending state
 *  2. take a booted sandbox from the daemon's warm pool, or spawn the pod init into new
 *     PID/IPC/UTS/NET namespaces and the first containers' helpers into them (they boot
 *     while the rest is prepared)
 *  3. create the cgroups and move the helpers into them in the background
 *  4. resolve images, check host ports, prepare volumes and the shared /dev/shm
 *  5. the init execs catatonit -P: PID 1 of the pod
 *  6. CNI ADD on the init's network namespace; /etc/hosts, resolv.conf; the pod's sysctls
 *  7. init containers one after another (a sidecar only until it started), then the apps
 * Any failure on the way tears down what was made and reports one error.
 */
import { dropUnusedPooled, useSandbox } from './warm-claim.js';
import { errorLine, ExitCode, HostError, inStep } from '../errors.js';
import { INIT_CGROUP, type PodCgroupPlan, planPodCgroups } from '../cgroups/plan.js';
import type { PodSpec } from '../manifest/types.js';
import type { PodNetworkStatus } from '../network/types.js';
import { containerCapabilities } from '../plan/container.js';
import { planPodInit } from '../plan/pod-init.js';
import { planPodSeccomp } from '../seccomp/plan.js';
import { containerNamespaceEntry, podSharedNamespaces } from '../namespaces/pod-namespaces.js';
import { detectHostLsm, planLsmLabels } from '../lsm/plan.js';
import type { Helper } from '../process/helper-client.js';
import { type PodPhase, type PodState, processRef } from '../state/pod-state.js';
import { type AdoptionRecord, finishedApps, writeAdoptionRecord } from './adoption.js';
import { CgroupJoins } from './cgroup-join.js';
import { ContainerRunner, type RunnerPod } from './container-runner.js';
import { claimPodName, newPodState, savePodState } from './pod-record.js';
import { type PodHost, realPodHost } from './host.js';
import { planSysctls } from './sysctls.js';
import { type PodLayout, podLayout, seccompProfileDir } from '../paths.js';
import { podHostname, preparePodDirs, writePodEtcFiles, writePodNetworkFiles } from './pod-files.js';
import { resolvePodImages } from './pod-images.js';
import { podExitCode, type FinishedContainer } from './restart-policy.js';
import { runInitSequence } from './init-sequence.js';
import { killAndWait, killNow, stopInOrder, terminationOrder } from './termination-order.js';
import { trace } from '../trace.js';
import { prepareVolumes, type PreparedVolumes } from './volumes.js';
import { downwardValues, hostDownward, type HostDownward } from './downward-host.js';
import type { DownwardValues } from '../plan/downward.js';
import type { UsernsPod } from '../userns/pod.js';

export type { SupervisorOutput } from './container-runner.js';
export type { SupervisorOptions } from './supervisor-options.js';
import type { SupervisorOptions } from './supervisor-options.js';

export class PodSupervisor {
  readonly spec: PodSpec;
  private readonly o: SupervisorOptions;
  private readonly host: PodHost;
  private readonly layout: PodLayout;
  private readonly joins: CgroupJoins;
  private readonly runs: ContainerRunner[];
  private state: PodState;
  private initHelper?: Helper;
  private userns?: UsernsPod; // the pod's own user namespace, if it has one (src/userns)
  private initBinary?: string;
  private volumes?: PreparedVolumes;
  private network?: PodNetworkStatus;
  private hostValues?: HostDownward;
  /** An adopted pod's init is not our child: its exit is polled for. */
  private initWatch?: NodeJS.Timeout;
  private stopping = false;
  private stopSignalCode?: number;
  private finished: FinishedContainer[] = [];
  private resolveDone!: (code: number) => void;
  private finishing?: Promise<void>;
  /** Resolves with `run`'s exit status once the pod is down and torn down. */
  readonly done: Promise<number>;

  constructor(spec: PodSpec, options: SupervisorOptions) {
    this.spec = spec;
    this.o = options;
    this.host = options.host ?? realPodHost(options);
    this.layout = podLayout(options.paths, spec.name);
    this.joins = new CgroupJoins(spec.name, options.cgroups, options.cgroupMover, () => this.trace('helpers in their cgroups'));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const pod = this.runnerPod();
    // Init containers run until they succeed (unless the pod's policy is Never), one by one.
    const initPolicy = spec.restartPolicy === 'Never' ? 'Never' : 'OnFailure';
    this.runs = [
      // A sidecar restarts whenever it exits, whatever the pod's policy (Kubernetes 1.29+).
      ...spec.initContainers.map((c) =>
        c.restartPolicy === 'Always' ? new ContainerRunner(pod, c, 'sidecar', 'Always') : new ContainerRunner(pod, c, 'init', initPolicy),
      ),
      ...spec.containers.map((c) => new ContainerRunner(pod, c, 'app', spec.restartPolicy)),
    ];
    const monitor = options.monitor === 'conmon' && this.host.held ? 'conmon' : 'daemon';
    this.state = newPodState(
      spec,
      this.runs.map((r) => r.state),
      { ...options, monitor },
    );
  }

  /** Creates the pod and starts its containers; resolves once app containers were started. */
  async start(): Promise<void> {
    // Each step's host failure says which step of which pod (crun style); containers say theirs.
    const step = <T>(what: string, fn: () => T | Promise<T>): Promise<T> => inStep(`${what} of pod ${this.spec.name}`, fn);
    // Pure, and it refuses limits the kernel cannot honour: before anything exists.
    let cgroupPlan: PodCgroupPlan;
    try {
      cgroupPlan = planPodCgroups(this.spec, { version: this.o.cgroups.version });
      this.planSecurity();
      // Undoes itself when it fails (a full run dir): `done` must still resolve.
      await step('claim the name', () => claimPodName(this.o.paths, this.spec, this.state));
    } catch (err) {
      this.resolveDone(ExitCode.runtime);
      throw err;
    }
    this.trace('name claimed');
    try {
      await step('spawn the processes', () => this.spawnPodProcesses());
      this.trace('helpers spawned');
      // Cgroups before images and volumes: the helpers' moves into them (an RCU grace period
      // each burst) then run while the host is prepared.
      await step('create the cgroups', () => this.createCgroups(cgroupPlan));
      this.moveHelpersIntoCgroups();
      this.trace('cgroups created');
      await step('prepare images, volumes and files', () => this.prepareHost());
      this.trace('images, volumes, /dev/shm ready');
      await step('start the init', () => this.execInit());
      this.trace('pod init running');
      await step('set up the network', () => this.setupNetwork());
      this.trace('network ready');
      // Once eth0 exists (net.ipv4.conf.eth0.*), before any container.
      await step('set the sysctls', () => this.host.applySysctls(this.initHelper!.pid, planSysctls(this.spec)));
      this.setPhase('Running');
      await this.runInitContainers();
      if (!this.stopping && this.state.phase === 'Running') {
        await Promise.all(this.apps().map((r) => r.start()));
      }
      this.trace('containers started');
    } catch (err) {
      // A pod that never started leaves no record: the name is free for a corrected retry.
      this.stopping = true;
      await this.teardown(false).catch((e: unknown) => this.o.output.event(`warning: ${errorLine(e)}`));
      this.resolveDone(ExitCode.runtime);
      throw err;
    }
    this.checkDone();
  }

  /** Seccomp filters (reading and compiling Localhost profiles: a missing one fails here) and LSM labels. */
  private planSecurity(): void {
    const filters = planPodSeccomp(this.spec, containerCapabilities, { profileDir: seccompProfileDir(this.o.paths) });
    for (const r of this.runs)
      [r.seccomp, r.lsmLabels] = [filters.get(r.spec.name), planLsmLabels(r.spec.securityContext, detectHostLsm())];
  }

  /**
   * Takes over a pod a previous daemon ran (adoption.ts): exits recorded meanwhile are handled
   * now, probes and restarts resume; an attached pod's client is gone, so it goes on detached.
   */
  static adopt(spec: PodSpec, saved: PodState, record: AdoptionRecord, options: SupervisorOptions): PodSupervisor {
    const s = new PodSupervisor(spec, { ...options, keepRecord: true, streamsLines: false });
    s.state = { ...saved, supervisor: processRef(process.pid), keepRecord: true, monitor: 'conmon' };
    s.network = saved.network as PodNetworkStatus | undefined;
    s.volumes = record.volumes;
    s.finished = finishedApps(saved);
    s.planSecurity();
    s.runs.forEach((r, i) => {
      r.image = record.images[r.name];
      r.adopt(saved.containers[i]!);
    });
    s.saveState();
    s.initWatch = setInterval(() => !s.host.isAlive(s.state.init!) && s.onInitExit(null, null), 1000);
    for (const r of s.runs) if (r.kind !== 'init' && r.state.state === 'waiting') s.restartLater(r, r.state.exitCode ?? 1);
    s.checkDone();
    return s;
  }

  /** Lets go of the pod without touching it (the daemon hands it to a new one, which adopts it). */
  release(): void {
    this.stopping = true;
    clearInterval(this.initWatch);
    for (const r of this.runs) r.release();
  }

  private trace(step: string): void {
    (this.o.trace ?? trace)(step);
  }

  private apps(): ContainerRunner[] {
    return this.runs.filter((r) => r.kind === 'app');
  }

  /** The downward API's values as they are now (the pod IP once the network is up). */
  private downward(): DownwardValues {
    this.hostValues ??= hostDownward(this.o.paths.libDir);
    return downwardValues(this.state.uid!, this.hostValues, this.spec, this.network);
  }

  /** What the container runners see of their pod. */
  private runnerPod(): RunnerPod {
    const pod: RunnerPod = {
      spec: this.spec,
      layout: this.layout,
      host: this.host,
      cgroups: this.o.cgroups,
      joins: this.joins,
      output: this.o.output,
      stopping: () => this.stopping,
      heldByConmon: false,
      streamsLines: this.o.streamsLines ?? true,
      namespaces: () => containerNamespaceEntry(this.spec, this.initPid()),
      userns: () => this.userns,
      volumes: () => this.volumes!,
      downward: () => this.downward(),
      stateChanged: () => this.syncContainerStates(),
      exited: (r, exitCode, finishedAt) => this.onContainerExit(r, exitCode, finishedAt),
      trace: (step) => this.trace(step),
    };
    // Read at each start: the pod's monitor is settled once its user namespace is known.
    Object.defineProperty(pod, 'heldByConmon', { get: () => this.state.monitor === 'conmon' });
    return pod;
  }

  /** The pod's PID 1: the init helper this daemon spawned, or the one it adopted. */
  private initPid(): number {
    return this.initHelper?.pid ?? this.state.init!.pid;
  }

  // ---- start steps ----

  private async prepareHost(): Promise<void> {
    const { spec, o, host } = this;
    const images = await resolvePodImages(host, spec, this.runs, o.pinImagesPerPod ? spec.name : undefined);
    this.runs.forEach((r, i) => {
      r.image = images[i];
      r.state.imageId = images[i]!.id;
    });
    if (o.pinImagesPerPod) {
      // The state names the images from here on; the pins only bridged the gap.
      this.saveState();
      await host.unpinImages(spec.name);
    }
    await host.checkHostPorts(spec);

    preparePodDirs(o.sys, this.layout);
    this.volumes = await prepareVolumes(o.sys, spec, this.layout.volumesDir, {
      paths: o.paths,
      pinOwner: o.pinImagesPerPod ? spec.name : undefined,
      downward: this.downward(),
    });
    this.state.volumeImageIds = Object.values(this.volumes.imageIds);
    this.userns?.chownVolumes(spec, this.volumes.byName);
    if (this.state.monitor === 'conmon') {
      writeAdoptionRecord(this.layout, { images: Object.fromEntries(this.runs.map((r) => [r.name, r.image!])), volumes: this.volumes });
    }
    writePodEtcFiles(this.layout, spec, podHostname(spec));
  }

  private createCgroups(plan: PodCgroupPlan): void {
    const { cgroups } = this.o;
    cgroups.create(plan);
    this.state.cgroupPaths = Object.values(cgroups.paths(this.spec.name));
    for (const r of this.runs) r.state.cgroupPaths = Object.values(cgroups.paths(this.spec.name, r.spec.name));
    this.saveState();
  }

  /** The helpers that already run go into their cgroups in the background (cgroup-join.ts). */
  private moveHelpersIntoCgroups(): void {
    const containers = this.runs.filter((r) => r.helper).map((r) => ({ helper: r.helper!, cgroup: r.spec.name }));
    // The containers' first: their exec waits for the move, PID 1's does not.
    this.joins.moveEarly([...containers, ...(this.initHelper ? [{ helper: this.initHelper, cgroup: INIT_CGROUP }] : [])]);
  }

  /**
   * Spawns the pod's init into new namespaces and the first containers' helpers into them,
   * before anything else: Node's start-up (~50 ms per helper) then overlaps with resolving
   * images, volumes, cgroups and CNI. The helpers wait for their plans.
   */
  private async spawnPodProcesses(): Promise<void> {
    this.initBinary = this.host.findInitBinary();
    if (!this.initBinary) {
      throw new HostError("catatonit (the pod's init process) is not installed", { hint: 'apt-get install catatonit' });
    }
    // A pod with its own user namespace gets it with its init; the warm pool's sandboxes have none.
    this.state.userNamespace = (this.userns = await this.host.userNamespace?.(this.spec, this.layout))?.range;
    // conmon's containers are not made in a user namespace yet: such a pod stays with the daemon.
    if (this.userns) this.state.monitor = 'daemon';
    const held = this.state.monitor === 'conmon';
    const sandbox = this.userns ? undefined : await this.o.warm?.claim(this.spec);
    const helper =
      sandbox?.init ??
      (await this.userns?.startInit(this.layout, this.initBinary)) ??
      this.host.spawnHelper({ create: podSharedNamespaces(this.spec), join: null });
    this.initHelper = helper;
    // catatonit only writes on trouble; drain it so a full pipe can never block PID 1.
    helper.stdout?.on('data', (d: Buffer) => this.o.output.event(`pod init: ${d.toString().trim()}`));
    helper.stderr?.on('data', (d: Buffer) => this.o.output.event(`pod init: ${d.toString().trim()}`));
    helper.child.on('exit', (code, signal) => this.onInitExit(code, signal));
    if (sandbox) {
      const used = useSandbox(this.runs, sandbox, held, this.host);
      this.trace(`warm sandbox claimed (${used} booted container ${held ? 'conmons' : 'helpers'} used)`);
      return;
    }
    if (held) return; // conmon and the runtime make the containers
    const first = this.spec.initContainers.length > 0 ? this.runs.slice(0, 1) : this.runs;
    for (const r of first) r.helper = r.spawnHelper();
  }

  private async execInit(): Promise<void> {
    const helper = this.initHelper!;
    const plan = planPodInit({
      pod: this.spec,
      rootDir: this.layout.initRoot,
      initBinary: this.initBinary!,
      cgroupProcs: this.joins.pid1ProcsToJoin(helper, INIT_CGROUP),
    });
    // The init of a user namespace runs already (src/userns/pod-init.ts): only its cgroup is left.
    await (this.userns ? this.o.cgroups.addProcess(this.spec.name, INIT_CGROUP, helper.pid) : this.host.sendPlan(helper, plan));
    this.joins.afterPid1Exec(
      helper,
      INIT_CGROUP,
      () => this.stopping,
      (m) => this.o.output.event(`warning: ${m}`),
    );
    this.state.init = processRef(helper.pid);
    this.state.netnsPath = this.spec.hostNetwork ? undefined : `/proc/${helper.pid}/ns/net`;
    this.saveState();
  }

  private async setupNetwork(): Promise<void> {
    const { spec, o, host } = this;
    this.network = await host.setupNetwork({
      pod: spec,
      podId: this.state.uid ?? spec.name, // each instance its own CNI ID (network-teardown.ts)
      netnsPath: this.state.netnsPath,
      loopbackReady: true,
      warn: (m) => o.output.event(`warning: ${m}`),
    });
    this.state.network = this.network;
    for (const w of writePodNetworkFiles(this.layout, spec, this.network.ip, host.readHostResolvConf())) o.output.event(`warning: ${w}`);
    this.saveState();
  }

  /** Init containers in order, sidecars left running once started (init-sequence.ts). */
  private async runInitContainers(): Promise<void> {
    await runInitSequence(this.runs, {
      stopping: () => this.stopping,
      done: this.done,
      failed: async (r, code) => {
        this.o.output.event(`init container ${r.name} failed with exit code ${code}: the pod failed`);
        this.finished.push({ name: r.name, exitCode: code, finishedAt: Date.now() });
        this.setPhase('Failed');
        // Sidecars started before it are stopped in order.
        await this.terminate();
      },
    });
  }

  // ---- containers ----

  /** What an exit means for the pod: the runner recorded it already. */
  private onContainerExit(r: ContainerRunner, exitCode: number, finishedAt: number): void {
    // Exits caused by our own stop are not failures of the pod; a sidecar's never count.
    if (r.kind === 'app' && !this.stopping) this.finished.push({ name: r.name, exitCode, finishedAt });
    this.syncContainerStates();
    // An init container's exit is awaited by runInitContainers.
    if (this.stopping || r.kind === 'init') return;
    if (!r.restartsAfter(exitCode)) {
      if (r.kind === 'sidecar') {
        // Only a sidecar that could not start at all gets here: it never will.
        this.o.output.event(`sidecar ${r.name} could not start: the pod failed`);
        this.finished.push({ name: r.name, exitCode, finishedAt });
        this.setPhase('Failed');
        void this.terminate();
        return;
      }
      this.checkDone();
      return;
    }
    this.restartLater(r, exitCode);
  }

  private restartLater(r: ContainerRunner, exitCode: number): void {
    r.restart(exitCode).catch((err: unknown) => {
      this.o.output.event(`restart of ${r.name} failed: ${errorLine(err)}`);
      void this.stop();
    });
  }

  private checkDone(): void {
    if (this.stopping) return;
    const allDone = this.apps().every((r) => r.state.state === 'terminated' && !r.restartPending);
    if (!allDone) return;
    const code = podExitCode(this.finished);
    this.setPhase(code === 0 ? 'Succeeded' : 'Failed');
    // The app containers are done: the sidecars are stopped (last started first), then teardown.
    void this.terminate();
  }

  /** Stops what still runs (sidecars, once the app containers are done) and finishes. */
  private async terminate(): Promise<void> {
    this.stopping = true;
    for (const r of this.runs) r.cancelRestart();
    const deadline = Date.now() + this.spec.terminationGracePeriodSeconds * 1000;
    if (!(await stopInOrder(terminationOrder(this.runs), deadline, true))) await killAndWait(this.runs);
    await this.finish();
  }

  private onInitExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    // PID 1 gone means the kernel killed every process of the pod: nothing can run any more.
    this.o.output.event(`the pod's init exited (${signal ?? code}); stopping the pod`);
    void this.stop();
  }

  // ---- stopping ----

  /**
   * SIGTERM to every running container, SIGKILL after the grace period, then teardown.
   * A second call while stopping kills at once.
   */
  async stop(options: { signalExit?: number; graceSeconds?: number } = {}): Promise<number> {
    if (options.signalExit !== undefined && this.stopSignalCode === undefined) this.stopSignalCode = options.signalExit;
    if (this.stopping) {
      killNow(this.runs);
      return this.done;
    }
    this.stopping = true;
    this.setPhase('Stopping');
    for (const r of this.runs) r.cancelRestart();
    const grace = (options.graceSeconds ?? this.spec.terminationGracePeriodSeconds) * 1000;
    // App containers first, then sidecars last-started-first (termination-order.ts); preStop
    // hooks run before each stop signal and their time counts against the grace period.
    if (!(await stopInOrder(terminationOrder(this.runs), Date.now() + grace, grace > 0))) await killAndWait(this.runs);
    await this.finish();
    return this.done;
  }

  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      clearInterval(this.initWatch);
      const stoppedByUser = this.stopping && this.state.phase === 'Stopping';
      this.stopping = true;
      for (const r of this.runs) r.cancelRestart();
      await this.teardown();
      const failed = podExitCode(this.finished);
      const code = failed !== 0 ? failed : (this.stopSignalCode ?? 0);
      if (this.o.keepRecord) {
        if (stoppedByUser) this.state.phase = 'Stopped';
        else if (this.state.phase !== 'Succeeded' && this.state.phase !== 'Failed') this.state.phase = code === 0 ? 'Succeeded' : 'Failed';
        this.state.init = undefined;
        this.state.netnsPath = undefined;
        this.state.exitCode = code;
        for (const r of this.runs) r.markStopped();
        this.syncContainerStates();
      }
      this.resolveDone(code);
    })();
    return this.finishing;
  }

  private async teardown(keepRecord = this.o.keepRecord ?? false): Promise<void> {
    if (this.o.pinImagesPerPod) await this.host.unpinImages(this.spec.name).catch(() => {});
    const extra = [this.initHelper, ...this.runs.map((r) => r.helper)]
      .filter((h): h is Helper => h !== undefined)
      .map((h) => processRef(h.pid));
    for (const r of this.runs) r.closeLog();
    dropUnusedPooled(this.runs, this.host);
    await this.host.teardown(this.spec.name, {
      warn: (m) => this.o.output.event(`warning: ${m}`),
      extraProcesses: extra,
      keepLogs: true,
      keepState: keepRecord,
      keepHostNetwork: this.o.keepHostNetwork,
      deferNetwork: this.o.deferNetwork,
      trace: (step) => this.trace(step),
    });
  }

  // ---- state ----

  private setPhase(phase: PodPhase): void {
    this.state.phase = phase;
    this.saveState();
  }

  private syncContainerStates(): void {
    this.state.containers = this.runs.map((r) => r.state);
    this.saveState();
  }

  private saveState(): void {
    savePodState(this.o.paths, this.state, (m) => this.o.output.event(`warning: ${m}`));
  }
}
