/**
 * The pod supervisor: creates a pod, keeps it going, and takes it down.
 *
 * One supervisor object per pod, all of them in the daemon (src/daemon/server.ts), attached or
 * detached. It owns the helpers it spawns or takes from the warm pool (the daemon is their
 * parent, so Node reaps them and reports their exit), the pod's cgroups, network, host mounts
 * and state file.
 *
 * Start, in order (docs/architecture.md has the why of each step):
 *  1. claim the name (mkdir of the pod's run dir), write a Pending state
 *  2. take a booted sandbox from the daemon's warm pool, or spawn the pod init into new
 *     PID/IPC/UTS/NET namespaces and the first containers' helpers into them (they boot
 *     while the rest is prepared)
 *  3. create the cgroups and move the helpers into them in the background
 *  4. resolve images, check host ports, prepare volumes and the shared /dev/shm
 *  5. the init execs catatonit -P: PID 1 of the pod
 *  6. CNI ADD on the init's network namespace; write /etc/hosts and resolv.conf
 *  7. init containers one after another, then every app container in parallel
 * Any failure on the way tears down what was made and reports one error.
 */
import fs from 'node:fs';
import os from 'node:os';
import { ExitCode, UserError } from '../errors.js';
import type { CgroupManager } from '../cgroups/manager.js';
import type { CgroupMover } from '../cgroups/mover.js';
import { INIT_CGROUP, type PodCgroupPlan, planPodCgroups } from '../cgroups/plan.js';
import { imageStopSignal, resolveImage } from '../images/index.js';
import { unpinImages } from '../images/store/gc.js';
import { storeDirs } from '../images/store/paths.js';
import type { ResolvedImage } from '../images/types.js';
import type { ContainerSpec, PodSpec } from '../manifest/types.js';
import { checkHostPorts, readHostResolvConf, renderEtcHosts, renderResolvConf, setupPodNetwork } from '../network/index.js';
import type { PodNetworkStatus } from '../network/types.js';
import type { MinipodPaths } from '../paths.js';
import { planContainer } from '../plan/container.js';
import type { PodInitPlan } from '../plan/types.js';
import { CriLogWriter, type LogStream } from '../logs/cri-log.js';
import { spawnInNamespaces, type NamespaceEntry, type SharedNamespace } from '../namespaces/pod-namespaces.js';
import { discardHelper, HelperFailed, type Helper, helperExit, sendPlan, spawnHelper } from '../process/helper-client.js';
import {
  type ContainerState,
  type PodPhase,
  type PodState,
  processRef,
  specPath,
  writePodState,
} from '../state/pod-state.js';
import type { Syscall } from '../syscall/syscall.js';
import { mountTmpfs } from './host-mounts.js';
import { containerLayout, type PodLayout, podLayout } from './layout.js';
import { containerHostDirs, isFileOnHost, prepareContainerDirs, writeProcessRecord } from './container-files.js';
import {
  backoffDelay,
  nextBackoffCount,
  podExitCode,
  shouldRestart,
  signalExitCode,
  type FinishedContainer,
} from './restart-policy.js';
import { teardownPod } from './teardown.js';
import { ContainerProbes, actionRunner, runHandler, type ProbeTarget } from '../probes/index.js';
import { trace } from '../trace.js';
import { prepareVolumes, type PreparedVolumes } from './volumes.js';

/** Static init binaries we can run as the pod's PID 1, podman's choice first. */
const INIT_BINARIES = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];

export interface SupervisorOutput {
  /** A line of container output; attached runs print it with the container's name. */
  line(container: string, stream: LogStream, text: string): void;
  /** minipod's own messages about the pod (container exited, restarting, ...). */
  event(message: string): void;
}

export interface SupervisorOptions {
  paths: MinipodPaths;
  sys: Syscall;
  cgroups: CgroupManager;
  output: SupervisorOutput;
  manifestPath?: string;
  /**
   * Keep the pod's record (state, spec, logs) after it ends, for `ps -a`, `logs` and
   * `restart`, until `rm` (detached pods). Attached runs leave nothing, like `run --rm`.
   */
  keepRecord?: boolean;
  /** Moves helpers into cgroups early, off the event loop (the daemon keeps one for all pods); without one each helper joins by itself before its exec. */
  cgroupMover?: CgroupMover;
  /** Booted sandboxes to take the pod's helpers from (the daemon's warm pool). */
  warm?: { claim(spec: PodSpec): { init: Helper; containers: Helper[] } | undefined };
  /** Pin images for this pod rather than for this process (the daemon outlives its pods). */
  pinImagesPerPod?: boolean;
  /** Leave the host's bridge and chains up when the pod goes (the daemon removes them when it exits). */
  keepHostNetwork?: boolean;
  /** Where start-path steps go (the daemon sends them to the client); MINIPOD_TRACE's stderr by default. */
  trace?: (step: string) => void;
}

interface ContainerRun {
  spec: ContainerSpec;
  isInit: boolean;
  state: ContainerState;
  image?: ResolvedImage;
  helper?: Helper;
  /** The pre-spawned helper's move into the container's cgroups (true once it is in them). */
  helperInCgroups?: Promise<boolean>;
  /** Set when the helper reported that it could not exec. */
  startFailure?: HelperFailed;
  log?: CriLogWriter;
  startedAtMs: number;
  oomBaseline: number;
  consecutiveBackoffs: number;
  restartTimer?: NodeJS.Timeout;
  /** Resolves when the current instance exits. */
  exited?: Promise<number>;
  probes?: ContainerProbes;
  /** Why minipod killed the current instance (a failed probe or hook), for its reason. */
  killedBecause?: string;
}

export class PodSupervisor {
  readonly spec: PodSpec;
  private readonly o: SupervisorOptions;
  private readonly layout: PodLayout;
  private readonly runs: ContainerRun[];
  private state: PodState;
  private initHelper?: Helper;
  private initInCgroups?: Promise<boolean>;
  private volumes?: PreparedVolumes;
  private network?: PodNetworkStatus;
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
    this.layout = podLayout(options.paths, spec.name);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const run = (c: ContainerSpec, isInit: boolean): ContainerRun => ({
      spec: c,
      isInit,
      state: {
        name: c.name,
        init: isInit,
        image: c.image,
        state: 'waiting',
        reason: 'ContainerCreating',
        restartCount: 0,
        ready: false,
        cgroupPaths: [],
        logPath: containerLayout(this.layout, c.name).logPath,
      },
      startedAtMs: 0,
      oomBaseline: 0,
      consecutiveBackoffs: 0,
    });
    this.runs = [...spec.initContainers.map((c) => run(c, true)), ...spec.containers.map((c) => run(c, false))];
    this.state = {
      name: spec.name,
      phase: 'Pending',
      createdAt: new Date().toISOString(),
      manifestPath: options.manifestPath,
      supervisor: processRef(process.pid),
      hostname: spec.hostname,
      cgroupPaths: [],
      containers: this.runs.map((r) => r.state),
      keepRecord: options.keepRecord ?? false,
    };
  }

  /** Creates the pod and starts its containers; resolves once app containers were started. */
  async start(): Promise<void> {
    // Pure, and it refuses limits the kernel cannot honour: before anything exists.
    const cgroupPlan = planPodCgroups(this.spec, { version: this.o.cgroups.version });
    this.claimName();
    this.trace('name claimed');
    try {
      this.spawnPodProcesses();
      this.trace('helpers spawned');
      // Cgroups before images and volumes: the helpers' moves into them (an RCU grace period
      // each burst) then run while the host is prepared.
      this.createCgroups(cgroupPlan);
      this.moveHelpersIntoCgroups();
      this.trace('cgroups created');
      await this.prepareHost();
      this.trace('images, volumes, /dev/shm ready');
      await this.execInit();
      this.trace('pod init running');
      await this.setupNetwork();
      this.trace('network ready');
      this.setPhase('Running');
      await this.runInitContainers();
      if (!this.stopping && this.state.phase === 'Running') {
        await Promise.all(this.runs.filter((r) => !r.isInit).map((r) => this.startContainer(r)));
      }
      this.trace('containers started');
    } catch (err) {
      // A pod that never started leaves no record: the name is free for a corrected retry.
      this.stopping = true;
      await this.teardown(false);
      this.resolveDone(ExitCode.runtime);
      throw err;
    }
    this.checkDone();
  }

  private trace(step: string): void {
    (this.o.trace ?? trace)(step);
  }

  // ---- start steps ----

  private claimName(): void {
    fs.mkdirSync(`${this.o.paths.runDir}/pods`, { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(this.layout.runDir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UserError(
          `pod "${this.spec.name}" already exists: see \`minipod ps\`, remove it with \`minipod rm -f ${this.spec.name}\``,
          { code: 'pod.exists' },
        );
      }
      throw err;
    }
    fs.writeFileSync(specPath(this.o.paths, this.spec.name), JSON.stringify(this.spec));
    this.saveState();
  }

  private async prepareHost(): Promise<void> {
    const { spec, o } = this;
    const images = await Promise.all(
      this.runs.map((r, i) => {
        const list = r.isInit ? 'initContainers' : 'containers';
        const index = r.isInit ? i : i - spec.initContainers.length;
        return resolveImage(r.spec.image, {
          manifestDir: spec.manifestDir,
          paths: o.paths,
          fieldPath: `spec.${list}[${index}].image`,
          pullPolicy: r.spec.imagePullPolicy,
          pinOwner: this.o.pinImagesPerPod ? spec.name : undefined,
          pullSecrets: spec.pullSecrets,
        });
      }),
    );
    this.runs.forEach((r, i) => {
      r.image = images[i];
      r.state.imageId = images[i]!.id;
    });
    if (o.pinImagesPerPod) {
      // The state names the images from here on; the pins only bridged the gap.
      this.saveState();
      await unpinImages(storeDirs(o.paths), spec.name);
    }
    await checkHostPorts(spec, o.paths, spec.name);

    fs.mkdirSync(this.layout.libDir, { recursive: true, mode: 0o700 });
    // A new pod of an old name starts with fresh logs.
    fs.rmSync(this.layout.logDir, { recursive: true, force: true });
    fs.mkdirSync(this.layout.logDir, { recursive: true, mode: 0o750 });
    fs.mkdirSync(this.layout.initRoot, { recursive: true, mode: 0o700 });
    // One tmpfs for the whole pod: containers share /dev/shm as they share the IPC namespace.
    mountTmpfs(o.sys, this.layout.shm, 'mode=1777,size=65536k');
    this.volumes = prepareVolumes(o.sys, spec, this.layout.volumesDir);
    fs.writeFileSync(this.layout.etcHostname, `${spec.hostNetwork ? os.hostname() : spec.hostname}\n`);
    fs.writeFileSync(this.layout.etcHosts, renderEtcHosts(spec.hostNetwork ? os.hostname() : spec.hostname));
    fs.writeFileSync(this.layout.resolvConf, '');
  }

  private createCgroups(plan: PodCgroupPlan): void {
    const { cgroups } = this.o;
    cgroups.create(plan);
    this.state.cgroupPaths = Object.values(cgroups.paths(this.spec.name));
    for (const r of this.runs) r.state.cgroupPaths = Object.values(cgroups.paths(this.spec.name, r.spec.name));
    this.saveState();
  }

  /**
   * Moves the helpers that already run into their cgroups from here, in the background, while
   * the pod's init and network come up. Moving a process between cgroups waits for an RCU grace
   * period (~5-15 ms on this kernel, much more than the write itself); done by each helper just
   * before its exec, that wait sat on the start path. A helper whose move failed joins by
   * itself, as a restarted container's helper does, and reports the error.
   */
  private moveHelpersIntoCgroups(): void {
    const { cgroups, cgroupMover: mover } = this.o;
    if (!mover) return; // Each helper joins by itself just before its exec.
    // Only booted helpers: Node's start-up (~40 MB, ~10 threads) must not be charged to a
    // container's memory and pids limits. One still booting joins by itself just before exec.
    const containers = this.runs.filter((r) => r.helper?.isBooted);
    const init = this.initHelper?.isBooted ? this.initHelper : undefined;
    if (containers.length === 0 && !init) return;
    // The containers' first: their exec waits for the move, PID 1's does not.
    const moved = mover
      .move([
        ...containers.map((r) => ({ pid: r.helper!.pid, files: cgroups.procsFiles(this.spec.name, r.spec.name) })),
        ...(init ? [{ pid: init.pid, files: cgroups.procsFiles(this.spec.name, INIT_CGROUP) }] : []),
      ])
      .then(
        () => {
          this.trace('helpers in their cgroups');
          return true;
        },
        () => false,
      );
    for (const r of containers) r.helperInCgroups = moved;
    if (init) this.initInCgroups = moved;
  }

  /** The namespaces the pod shares; hostNetwork pods keep the host's network and hostname. */
  private podNamespaces(): SharedNamespace[] {
    const ns: SharedNamespace[] = ['pid', 'ipc'];
    if (!this.spec.hostNetwork) ns.push('net', 'uts');
    return ns;
  }

  /**
   * Spawns the pod's init into new namespaces and the first containers' helpers into them,
   * before anything else: Node's start-up (~50 ms per helper) then overlaps with resolving
   * images, volumes, cgroups and CNI. The helpers wait for their plans.
   */
  private spawnPodProcesses(): void {
    if (!INIT_BINARIES.some((b) => fs.existsSync(b))) {
      throw new UserError('catatonit is not installed (the pod\'s init process): apt-get install catatonit', {
        code: 'host.missing-init',
      });
    }
    const sandbox = this.o.warm?.claim(this.spec);
    const helper = sandbox?.init ?? spawnInNamespaces(this.o.sys, { create: this.podNamespaces(), join: null }, () => spawnHelper());
    this.initHelper = helper;
    // catatonit only writes on trouble; drain it so a full pipe can never block PID 1.
    helper.stdout?.on('data', (d: Buffer) => this.o.output.event(`pod init: ${d.toString().trim()}`));
    helper.stderr?.on('data', (d: Buffer) => this.o.output.event(`pod init: ${d.toString().trim()}`));
    helper.child.on('exit', (code, signal) => this.onInitExit(code, signal));
    if (sandbox) {
      // Booted helpers serve the first start of each container in order; what is left over goes.
      const spare = [...sandbox.containers];
      for (const r of this.runs) if (!r.spec.stdin && spare.length > 0) r.helper = spare.shift();
      for (const h of spare) discardHelper(h);
      this.trace(`warm sandbox claimed (${sandbox.containers.length - spare.length} booted container helpers used)`);
      return;
    }
    const first = this.spec.initContainers.length > 0 ? this.runs.slice(0, 1) : this.runs;
    for (const r of first) r.helper = this.spawnContainerHelper(r);
  }

  private async execInit(): Promise<void> {
    const helper = this.initHelper!;
    const plan: PodInitPlan = {
      kind: 'pod-init',
      id: `${this.spec.name}/init`,
      rootDir: this.layout.initRoot,
      initBinary: INIT_BINARIES.find((b) => fs.existsSync(b))!,
      args: ['catatonit', '-P'],
      hostname: this.spec.hostNetwork ? undefined : this.spec.hostname,
      loopbackUp: !this.spec.hostNetwork,
      // PID 1 does not fork: its move may finish after its exec, in parallel with it.
      cgroupProcs: this.initInCgroups ? [] : this.o.cgroups.procsFiles(this.spec.name, INIT_CGROUP),
    };
    await sendPlan(helper, plan);
    void this.initInCgroups?.then((moved) => {
      if (moved || this.stopping) return;
      try {
        this.o.cgroups.addProcess(this.spec.name, INIT_CGROUP, helper.pid);
      } catch (err) {
        this.o.output.event(`warning: the pod's init is not in its cgroup: ${(err as Error).message}`);
      }
    });
    this.state.init = processRef(helper.pid);
    this.state.netnsPath = this.spec.hostNetwork ? undefined : `/proc/${helper.pid}/ns/net`;
    this.saveState();
  }

  private async setupNetwork(): Promise<void> {
    const { spec, o } = this;
    this.network = await setupPodNetwork({
      pod: spec,
      podId: spec.name,
      netnsPath: this.state.netnsPath,
      paths: o.paths,
      loopbackReady: true,
      warn: (m) => o.output.event(`warning: ${m}`),
    });
    this.state.network = this.network;
    const hostname = spec.hostNetwork ? os.hostname() : spec.hostname;
    fs.writeFileSync(this.layout.etcHosts, renderEtcHosts(hostname, this.network.ip));
    const host = readHostResolvConf();
    const resolv = renderResolvConf(spec, host.text, { upstreamResolvConfText: host.upstream });
    for (const w of resolv.warnings) o.output.event(`warning: ${w}`);
    fs.writeFileSync(this.layout.resolvConf, resolv.text);
    this.saveState();
  }

  private async runInitContainers(): Promise<void> {
    for (const r of this.runs.filter((run) => run.isInit)) {
      for (;;) {
        await this.startContainer(r);
        const code = await r.exited!;
        if (this.stopping) return;
        if (code === 0) break;
        if (this.spec.restartPolicy === 'Never') {
          this.o.output.event(`init container ${r.spec.name} failed with exit code ${code}: the pod failed`);
          this.finished.push({ name: r.spec.name, exitCode: code, finishedAt: Date.now() });
          this.setPhase('Failed');
          await this.finish();
          return;
        }
        const delay = backoffDelay(r.consecutiveBackoffs++);
        this.o.output.event(`init container ${r.spec.name} failed with exit code ${code}; restarting in ${delay / 1000}s`);
        r.state = { ...r.state, state: 'waiting', reason: 'CrashLoopBackOff' };
        this.syncContainerStates();
        await new Promise<void>((resolve) => (r.restartTimer = setTimeout(resolve, delay)));
        if (this.stopping) return;
        r.state.restartCount++;
      }
    }
  }

  // ---- containers ----

  private containerNamespaces(): NamespaceEntry {
    const shared = this.podNamespaces();
    if (this.spec.shareProcessNamespace) {
      return { create: [], join: { pid: this.initHelper!.pid, namespaces: shared } };
    }
    return { create: ['pid'], join: { pid: this.initHelper!.pid, namespaces: shared.filter((n) => n !== 'pid') } };
  }

  private spawnContainerHelper(r: ContainerRun): Helper {
    const helper = spawnInNamespaces(this.o.sys, this.containerNamespaces(), () => spawnHelper({ stdin: r.spec.stdin }));
    if (r.spec.stdin) helper.child.stdin?.end();
    return helper;
  }

  private async startContainer(r: ContainerRun): Promise<void> {
    const { spec, o } = this;
    const helper = r.helper ?? this.spawnContainerHelper(r);
    // A container must be in its cgroups before its program runs: wait for the early move.
    const inCgroups = r.helper && r.helperInCgroups ? await r.helperInCgroups : false;
    r.helper = undefined;
    r.helperInCgroups = undefined;
    r.startFailure = undefined;
    const layout = prepareContainerDirs(this.layout, r.spec.name, r.state.restartCount > 0);
    r.log = new CriLogWriter(layout.logPath, (stream, text) => o.output.line(r.spec.name, stream, text));
    const log = r.log;
    helper.stdout?.on('data', (d: Buffer) => log.write('stdout', d));
    helper.stderr?.on('data', (d: Buffer) => log.write('stderr', d));
    r.exited = helperExit(helper).then(({ code, signal }) => this.onContainerExit(r, helper, code, signal));

    r.oomBaseline = o.cgroups.oomKillCount(spec.name, r.spec.name);
    const plan = planContainer({
      pod: spec,
      container: r.spec,
      image: r.image!.config,
      dirs: containerHostDirs(this.layout, layout, r.spec, r.image!.layers, this.volumes!),
      cgroupProcs: o.cgroups.procsFiles(spec.name, r.spec.name),
      isFile: isFileOnHost,
    });
    writeProcessRecord(layout, plan);
    try {
      this.trace(`container ${r.spec.name} plan sent`);
      // The record keeps the cgroups (exec joins them); a helper already in them skips the join.
      await sendPlan(helper, inCgroups ? { ...plan, cgroupProcs: [] } : plan);
      this.trace(`container ${r.spec.name} exec'd`);
      r.startedAtMs = Date.now();
      r.state = {
        ...r.state,
        state: 'running',
        // Without a readiness probe a running container is ready, as in Kubernetes.
        ready: !r.spec.readinessProbe,
        reason: undefined,
        message: undefined,
        exitCode: undefined,
        pid: helper.pid,
        startTime: processRef(helper.pid).startTime,
        startedAt: new Date(r.startedAtMs).toISOString(),
        finishedAt: undefined,
      };
      this.syncContainerStates();
    } catch (err) {
      if (!(err instanceof HelperFailed)) throw err;
      r.startFailure = err;
      o.output.event(`container ${r.spec.name} could not start: ${err.message}`);
      return;
    }
    await this.afterStart(r, helper.pid);
  }

  private probeTarget(r: ContainerRun): ProbeTarget {
    return { paths: this.o.paths, sys: this.o.sys, pod: this.spec.name, container: r.spec.name };
  }

  /** postStart, then probes (Kubernetes: probes start once postStart succeeded). */
  private async afterStart(r: ContainerRun, pid: number): Promise<void> {
    const postStart = r.spec.lifecycle?.postStart;
    if (postStart) {
      const result = await runHandler(postStart, this.probeTarget(r), this.spec.terminationGracePeriodSeconds * 1000 || 30_000);
      if (r.state.pid !== pid || this.stopping) return;
      if (!result.success) {
        this.o.output.event(`postStart hook of ${r.spec.name} failed: ${result.message}; killing the container`);
        this.killContainer(r, 'FailedPostStartHook');
        return;
      }
    }
    const { startupProbe, livenessProbe, readinessProbe } = r.spec;
    if (!startupProbe && !livenessProbe && !readinessProbe) return;
    const failed = (why: string, message: string): void => {
      if (r.state.pid !== pid) return;
      this.o.output.event(`${why} of ${r.spec.name} failed: ${message}; killing the container`);
      this.killContainer(r, why === 'liveness probe' ? 'LivenessProbeFailed' : 'StartupProbeFailed');
    };
    r.probes = new ContainerProbes({
      probes: { startupProbe, livenessProbe, readinessProbe },
      run: actionRunner(this.probeTarget(r)),
      onReadyChange: (ready) => {
        if (r.state.pid !== pid || r.state.ready === ready) return;
        r.state.ready = ready;
        this.syncContainerStates();
      },
      onLivenessFailed: (last) => failed('liveness probe', last.message ?? ''),
      onStartupFailed: (last) => failed('startup probe', last.message ?? ''),
    });
    r.probes.start();
  }

  /** kubelet's kill: the stop signal (SIGTERM unless the image says), SIGKILL after the grace period; the restart policy then applies. */
  private killContainer(r: ContainerRun, because: string): void {
    const pid = r.state.pid;
    if (!pid) return;
    r.killedBecause = because;
    r.probes?.stop();
    this.signal(pid, imageStopSignal(r.image?.config.stopSignal));
    const timer = setTimeout(() => {
      if (r.state.pid === pid) this.signal(pid, 'SIGKILL');
    }, this.spec.terminationGracePeriodSeconds * 1000);
    void r.exited?.then(() => clearTimeout(timer));
  }

  /** Records an exit and decides what happens next; returns the exit code. */
  private onContainerExit(r: ContainerRun, helper: Helper, code: number | null, signal: NodeJS.Signals | null): number {
    const { spec, o } = this;
    let exitCode = signalExitCode(signal, code);
    let reason = exitCode === 0 ? 'Completed' : 'Error';
    let message: string | undefined;
    r.probes?.stop();
    r.probes = undefined;
    if (r.startFailure) {
      exitCode = r.startFailure.exitCode;
      reason = 'StartError';
      message = r.startFailure.message;
    } else if (r.killedBecause) {
      reason = r.killedBecause;
      r.killedBecause = undefined;
    } else if (exitCode === 137 && o.cgroups.oomKillCount(spec.name, r.spec.name) > r.oomBaseline) {
      // Only the container's own process killed by the OOM killer makes it OOMKilled; a child
      // killed while the main process carried on is not (containerd's rule).
      reason = 'OOMKilled';
    }
    r.log?.close();
    r.log = undefined;
    const finishedAt = Date.now();
    r.state = {
      ...r.state,
      state: 'terminated',
      ready: false,
      pid: undefined,
      startTime: undefined,
      exitCode,
      reason,
      message,
      finishedAt: new Date(finishedAt).toISOString(),
    };
    void helper;
    this.trace(`container ${r.spec.name} exited`);
    // Exits caused by our own stop are not failures of the pod.
    if (!r.isInit && !this.stopping) this.finished.push({ name: r.spec.name, exitCode, finishedAt });
    if (!this.stopping) {
      o.output.event(`container ${r.spec.name} exited with code ${exitCode} (${reason})`);
    }
    this.syncContainerStates();
    if (!this.stopping && !r.isInit) this.afterAppContainerExit(r, exitCode, finishedAt);
    return exitCode;
  }

  private afterAppContainerExit(r: ContainerRun, exitCode: number, finishedAt: number): void {
    const policy = this.spec.restartPolicy;
    // A command that cannot run will not run on a retry either; kubelet keeps retrying, but an
    // attached user wants the error: restart only what actually ran.
    if (!shouldRestart(policy, exitCode) || r.startFailure) {
      this.checkDone();
      return;
    }
    r.consecutiveBackoffs = nextBackoffCount(r.consecutiveBackoffs, finishedAt - r.startedAtMs);
    const delay = r.consecutiveBackoffs === 0 ? 0 : backoffDelay(r.consecutiveBackoffs - 1);
    r.state = { ...r.state, state: 'waiting', reason: delay > 0 ? 'CrashLoopBackOff' : 'Restarting' };
    if (delay > 0) this.o.output.event(`restarting ${r.spec.name} in ${delay / 1000}s (restart ${r.state.restartCount + 1})`);
    this.syncContainerStates();
    r.restartTimer = setTimeout(() => {
      r.restartTimer = undefined;
      if (this.stopping) return;
      r.state.restartCount++;
      this.startContainer(r).catch((err: unknown) => {
        this.o.output.event(`restart of ${r.spec.name} failed: ${(err as Error).message}`);
        void this.stop();
      });
    }, delay);
  }

  private checkDone(): void {
    if (this.stopping) return;
    const apps = this.runs.filter((r) => !r.isInit);
    const allDone = apps.every((r) => r.state.state === 'terminated' && !r.restartTimer);
    if (!allDone) return;
    const code = podExitCode(this.finished);
    this.setPhase(code === 0 ? 'Succeeded' : 'Failed');
    void this.finish();
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
      this.killAll();
      return this.done;
    }
    this.stopping = true;
    this.setPhase('Stopping');
    for (const r of this.runs) if (r.restartTimer) clearTimeout(r.restartTimer);
    const running = this.runs.filter((r) => r.state.state === 'running' && r.state.pid);
    for (const r of running) r.probes?.stop();
    const grace = (options.graceSeconds ?? this.spec.terminationGracePeriodSeconds) * 1000;
    const deadline = Date.now() + grace;
    // preStop hooks run first, in parallel, and their time counts against the grace period.
    await Promise.all(
      running.map(async (r) => {
        const preStop = r.spec.lifecycle?.preStop;
        if (preStop && grace > 0 && r.state.state === 'running') {
          const result = await runHandler(preStop, this.probeTarget(r), Math.max(0, deadline - Date.now()));
          if (!result.success) this.o.output.event(`preStop hook of ${r.spec.name} failed: ${result.message}`);
        }
        // The image's StopSignal (nginx: SIGQUIT) or SIGTERM, as kubelet does.
        if (r.state.pid) this.signal(r.state.pid, imageStopSignal(r.image?.config.stopSignal));
      }),
    );
    const exits = Promise.all(running.map((r) => r.exited));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exits.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.killAll();
      await exits;
    }
    await this.finish();
    return this.done;
  }

  private signal(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }

  private killAll(): void {
    for (const r of this.runs) {
      if (r.state.pid) this.signal(r.state.pid, 'SIGKILL');
      if (r.helper) this.signal(r.helper.pid, 'SIGKILL');
    }
  }

  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      const stoppedByUser = this.stopping && this.state.phase === 'Stopping';
      this.stopping = true;
      for (const r of this.runs) if (r.restartTimer) clearTimeout(r.restartTimer);
      await this.teardown();
      const failed = podExitCode(this.finished);
      const code = failed !== 0 ? failed : (this.stopSignalCode ?? 0);
      if (this.o.keepRecord) {
        if (stoppedByUser) this.state.phase = 'Stopped';
        else if (this.state.phase !== 'Succeeded' && this.state.phase !== 'Failed') this.state.phase = code === 0 ? 'Succeeded' : 'Failed';
        this.state.init = undefined;
        this.state.netnsPath = undefined;
        this.state.exitCode = code;
        for (const r of this.runs) {
          if (r.state.state !== 'terminated') r.state = { ...r.state, state: 'terminated', pid: undefined, startTime: undefined, reason: r.state.reason ?? 'Stopped' };
        }
        this.syncContainerStates();
      }
      this.resolveDone(code);
    })();
    return this.finishing;
  }

  private async teardown(keepRecord = this.o.keepRecord ?? false): Promise<void> {
    if (this.o.pinImagesPerPod) await unpinImages(storeDirs(this.o.paths), this.spec.name).catch(() => {});
    const extra = [this.initHelper, ...this.runs.map((r) => r.helper)]
      .filter((h): h is Helper => h !== undefined)
      .map((h) => processRef(h.pid));
    for (const r of this.runs) r.log?.close();
    await teardownPod(this.spec.name, {
      paths: this.o.paths,
      sys: this.o.sys,
      cgroups: this.o.cgroups,
      warn: (m) => this.o.output.event(`warning: ${m}`),
      extraProcesses: extra,
      keepLogs: true,
      keepState: keepRecord,
      keepHostNetwork: this.o.keepHostNetwork,
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
    if (!fs.existsSync(this.layout.runDir)) return; // Torn down already.
    try {
      writePodState(this.o.paths, this.state);
    } catch (err) {
      this.o.output.event(`warning: could not write the pod's state: ${(err as Error).message}`);
    }
  }
}
