/**
 * The minipod daemon: one Node process per run dir that supervises every pod.
 *
 * Why a daemon: a pod needs a supervisor for as long as it runs (reaping, restart policy,
 * probes, logs, stop). One Node process per pod costs ~30 MB and ~40 ms to start; one daemon
 * for all pods makes a pod's own cost its init (catatonit, 0.7 MB) plus a few objects here,
 * and takes Node's start-up off the start path of every pod but the first
 * (docs/performance.md has the numbers).
 *
 * It is started on demand by the first `minipod run` (docs/architecture.md), holds an flock on
 * `daemon.lock` for its life (so two clients racing to start one get one), garbage-collects
 * what a dead predecessor left, listens on `daemon.sock` (root only), and exits once it has
 * had no pod and no client for `idleMs`. SIGTERM stops every pod (each with its grace
 * period) and exits.
 */
import fs from 'node:fs';
import net from 'node:net';
import { ExitCode, fsHostError, HostError, hostErrorOf, UserError } from '../errors.js';
import { formatWarning, loadManifestBundle } from '../manifest/bundle.js';
import { ensureClaimVolumes } from '../volumes/pod-volumes.js';
import type { BundleClaim } from '../manifest/kinds.js';
import { cleanHostNetworkIfIdle } from '../network/index.js';
import type { PodSpec } from '../manifest/types.js';
import { gc } from '../pod/control.js';
import { daemonFiles, podLayout } from '../paths.js';
import { PodSupervisor, type SupervisorOptions, type SupervisorOutput } from '../pod/supervisor.js';
import { readAdoptionRecord, whyNotAdoptable } from '../pod/adoption.js';
import type { BundleWriter } from '../pod/held-container.js';
import { adoptPods } from './adopt.js';
import { type ContainerMonitor, isAlive, readPodState, withPodLock } from '../state/pod-state.js';
import { teardownPod } from '../pod/teardown.js';
import type { Runtime } from '../pod/runtime.js';
import {
  type AttachedClientMessage,
  type DaemonMessage,
  type DaemonRequest,
  type DaemonStatus,
  codeIdentity,
  PROTOCOL_VERSION,
  readJsonLines,
  writeJsonLine,
} from './protocol.js';
import { pooledHeldSlots } from './held-slots.js';
import { sandboxDemand, WarmPool } from './warm-pool.js';
import { PoolDriver } from './pool-driver.js';
import { NetworkJobs } from './network-jobs.js';
import { DEFAULT_POOL_POLICY } from './pool-policy.js';
import { attachedOutput, detachedOutput } from './pod-output.js';
import { CgroupMover } from '../cgroups/mover.js';

export interface DaemonOptions {
  /** Exit after this long without pods or clients; 0 = never. */
  idleMs: number;
  /** How many pod sandboxes to keep booted ahead of need (0 = none). */
  warmSandboxes: number;
  /** Tells whoever started us that we listen (or that another daemon already does). */
  ready: (message: { ok: true } | { busy: true } | { error: string }) => void;
  log: (message: string) => void;
  /** Who holds containers (MINIPOD_CONTAINER_MONITOR): conmon, so they outlive the daemon, or the daemon. */
  monitor: ContainerMonitor;
  /** The file of the daemon's code: a client that sees it changed asks for a `daemon restart`. */
  codeFile?: string;
  /** The OCI config writer conmon's runtime needs (src/oci); without it the daemon holds containers. */
  writeBundle?: BundleWriter;
}

interface HostedPod {
  supervisor: PodSupervisor;
  attached?: net.Socket;
}

export class PodDaemon {
  private readonly rt: Runtime;
  private readonly o: DaemonOptions;
  private readonly pods = new Map<string, HostedPod>();
  private readonly clients = new Set<net.Socket>();
  private server?: net.Server;
  private idleTimer?: NodeJS.Timeout;
  private shuttingDown?: Promise<void>;
  private resolveExit!: (code: number) => void;
  private readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));
  private readonly pool: WarmPool;
  /** Sizes the pool to demand: empty until pods come, drained when they stop (./pool-policy.ts). */
  private readonly poolDriver: PoolDriver;
  private readonly mover = new CgroupMover();
  /** Pods' CNI DELs finished after their clients had the answer (./network-jobs.ts). */
  private readonly network: NetworkJobs;

  constructor(rt: Runtime, options: DaemonOptions) {
    this.rt = rt;
    this.o = options;
    this.network = new NetworkJobs(options.log);
    // conmon mode: the sandboxes' containers come from pooled conmons (src/pod/held-pool.ts).
    const held = options.monitor === 'conmon' && options.writeBundle ? pooledHeldSlots(rt.paths) : undefined;
    this.pool = new WarmPool(rt.sys, options.warmSandboxes, options.log, options.monitor === 'conmon' ? 0 : undefined, held);
    this.poolDriver = new PoolDriver(this.pool, { ...DEFAULT_POOL_POLICY, max: options.warmSandboxes });
  }

  /** Runs until shutdown; resolves with the process's exit status. */
  async run(): Promise<number> {
    const { paths } = this.rt;
    fs.mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
    // Held until we exit: the kernel drops it if we die, so a successor can always start.
    const lockFd = fs.openSync(daemonFiles(paths).lock, 'a', 0o600);
    if (!this.rt.sys.flock(lockFd, 'exclusive')) {
      fs.closeSync(lockFd);
      this.o.ready({ busy: true });
      return 0;
    }
    fs.writeFileSync(daemonFiles(paths).pid, `${process.pid}\n`);
    if (this.o.codeFile) fs.writeFileSync(daemonFiles(paths).code, JSON.stringify(codeIdentity(this.o.codeFile)));
    this.mover.start();
    // Pods of a previous daemon whose containers conmon holds go on under this one; the rest
    // are orphans: gc frees what they left before new pods start.
    const adopted = await adoptPods(
      this.rt,
      (spec) => this.supervisorOptions(spec, detachedOutput(this.rt.paths, spec)),
      (m) => this.o.log(m),
    );
    for (const a of adopted) this.host(a.name, { supervisor: a.supervisor });
    const report = await gc({ ...this.rt, warn: (m) => this.o.log(`gc: ${m}`) });
    if (report.pods.length > 0) this.o.log(`gc: tore down pods of a previous daemon: ${report.pods.join(', ')}`);

    const socketPath = daemonFiles(paths).socket;
    fs.rmSync(socketPath, { force: true });
    const server = net.createServer((conn) => this.accept(conn));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    fs.chmodSync(socketPath, 0o600);
    server.on('error', (err) => this.o.log(`socket: ${err.message}`));

    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void this.shutdown(`${sig}`));
    process.on('SIGHUP', () => {});
    // Nothing pooled yet: the pool fills once pods come (./pool-policy.ts).
    this.o.ready({ ok: true });
    this.o.log(`listening on ${socketPath} (pid ${process.pid})`);
    this.armIdleTimer();
    const code = await this.exited;
    fs.closeSync(lockFd);
    return code;
  }

  // ---- connections ----

  private accept(conn: net.Socket): void {
    this.clients.add(conn);
    this.disarmIdleTimer();
    let first = true;
    conn.on('error', () => {});
    conn.on('close', () => {
      this.clients.delete(conn);
      this.armIdleTimer();
    });
    readJsonLines<DaemonRequest | AttachedClientMessage>(conn, (msg) => {
      if (first) {
        first = false;
        this.dispatch(conn, msg as DaemonRequest).catch((err: unknown) => this.fail(conn, err));
        return;
      }
      if (msg.op === 'stop' && 'signalExit' in msg) this.stopAttached(conn, msg);
    });
  }

  private async dispatch(conn: net.Socket, req: DaemonRequest): Promise<void> {
    // status, shutdown and handover answer any client: upgrading is what a mismatch calls for.
    if (req.version !== PROTOCOL_VERSION && !['status', 'shutdown', 'handover'].includes(req.op)) {
      throw new UserError(
        `the running minipod daemon speaks protocol ${PROTOCOL_VERSION}, this client ${req.version}: stop it with \`minipod daemon stop\``,
      );
    }
    // status and shutdown do not depend on the client's settings: the refusal below tells the
    // user to `minipod daemon stop`, which must then work.
    if (
      req.op !== 'status' &&
      req.op !== 'shutdown' &&
      req.op !== 'handover' &&
      JSON.stringify(req.paths) !== JSON.stringify(this.rt.paths)
    ) {
      throw new UserError(
        `the minipod daemon for ${this.rt.paths.runDir} runs with other directories or cgroup parent (${JSON.stringify(this.rt.paths)}): stop it with \`minipod daemon stop\` first`,
        { code: 'daemon.settings' },
      );
    }
    if (this.shuttingDown && req.op !== 'status' && req.op !== 'shutdown' && req.op !== 'handover') {
      throw new UserError('the minipod daemon is shutting down; try again in a moment', { code: 'daemon.shutting-down' });
    }
    switch (req.op) {
      case 'run':
        return this.runPod(conn, req);
      case 'stop':
        return this.stopPod(conn, req.pod, req.graceSeconds);
      case 'remove':
        return this.removePods(conn, req.pods, req.force);
      case 'status':
        return this.finish(conn, { t: 'status', status: this.status() });
      case 'settle':
        await Promise.all([this.poolDriver.settle(), this.network.settled()]);
        return this.finish(conn, { t: 'exit', code: 0 });
      case 'shutdown':
        this.finish(conn, { t: 'exit', code: 0 });
        await this.shutdown('minipod daemon stop');
        return;
      case 'handover':
        return this.handover(conn);
    }
  }

  private fail(conn: net.Socket, error: unknown): void {
    const err = fsHostError(error) ?? hostErrorOf(error); // a full or read-only run/lib dir names its path
    if (err instanceof UserError) {
      this.finish(conn, { t: 'error', message: err.message.split('\n')[0]!, exitCode: err.exitCode, code: err.code });
      return;
    }
    if (err instanceof HostError) {
      this.o.log(`host error: ${err.message}`);
      this.finish(conn, { t: 'error', message: err.message.split('\n')[0]!, exitCode: ExitCode.runtime, code: 'host', hint: err.hint });
      return;
    }
    const e = err as Error;
    this.o.log(`internal error: ${e?.stack ?? String(err)}`);
    this.finish(conn, { t: 'error', message: `internal error: ${e?.message ?? String(err)}`, exitCode: ExitCode.runtime });
  }

  private finish(conn: net.Socket, msg: DaemonMessage): void {
    writeJsonLine(conn, msg);
    conn.end();
  }

  // ---- pods ----

  /**
   * `run`: the saved spec (`restart`) or the client's manifests. Several pods start one after
   * the other, detached only (an attached run follows one pod's output and exit).
   */
  private async runPod(conn: net.Socket, req: Extract<DaemonRequest, { op: 'run' }>): Promise<void> {
    const received = performance.now();
    const trace = req.trace ? (step: string) => writeJsonLine(conn, { t: 'trace', ms: performance.now() - received, step }) : () => {};
    let specs: PodSpec[];
    let claims: BundleClaim[] = [];
    if (req.spec) specs = [req.spec];
    else if (req.manifests && req.manifests.length > 0) {
      const { bundle, warnings } = loadManifestBundle(req.manifests);
      for (const w of warnings) writeJsonLine(conn, { t: 'out', s: 'stderr', x: `${formatWarning(w)}\n` });
      specs = bundle.pods;
      claims = bundle.claims;
    } else throw new UserError('run: no manifest');
    trace('manifest parsed');
    for (const spec of specs) {
      if (this.pods.has(spec.name)) {
        throw new UserError(`pod "${spec.name}" already exists: see \`minipod ps\`, remove it with \`minipod rm -f ${spec.name}\``, {
          code: 'pod.exists',
        });
      }
    }
    if (specs.length > 1 && !req.detach) {
      throw new UserError(
        `the manifests hold ${specs.length} pods (${specs.map((s) => s.name).join(', ')}): run them with -d, an attached run follows one pod`,
        { code: 'run.several-pods' },
      );
    }
    // Claims before pods, as kube play makes volumes first; an existing volume is used as it is.
    await ensureClaimVolumes(this.rt.paths, claims);
    if (specs.length === 0) {
      const names = claims.map((c) => c.name); // Only claims: kube play prints the volumes it made.
      this.finish(conn, { t: 'started', name: names[0]!, more: names.length > 1 ? names.slice(1) : undefined });
      return;
    }
    const started: string[] = [];
    for (const spec of specs) {
      const last = spec === specs[specs.length - 1];
      const failed = await this.startOnePod(conn, req, spec, trace, last ? started : undefined);
      if (failed) return;
      started.push(spec.name);
    }
  }

  /**
   * Starts one pod. Detached: the last pod of a run answers `started` for all of them (`before`
   * names the ones started earlier); true when the start failed (its error was answered).
   */
  private async startOnePod(
    conn: net.Socket,
    req: Extract<DaemonRequest, { op: 'run' }>,
    spec: PodSpec,
    trace: (step: string) => void,
    before: string[] | undefined,
  ): Promise<boolean> {
    writeJsonLine(conn, { t: 'pod', name: spec.name });

    const output = req.detach ? detachedOutput(this.rt.paths, spec) : attachedOutput(conn, spec);
    const supervisor = new PodSupervisor(spec, {
      ...this.supervisorOptions(spec, output),
      manifestPath: req.manifests?.[0]?.path ?? req.manifestPath,
      keepRecord: req.detach,
      streamsLines: !req.detach,
      trace,
      warm: {
        claim: async (s: PodSpec) => {
          const sandbox = await this.pool.claim(s);
          this.poolDriver.sandboxClaimed();
          return sandbox;
        },
      },
    });
    this.host(spec.name, { supervisor, attached: req.detach ? undefined : conn });
    this.poolDriver.podStarting(sandboxDemand(spec));
    if (!req.detach) {
      // The attached client is the pod's owner: if it goes away without a word, so does the pod.
      conn.on('close', () => void supervisor.stop({ signalExit: 129 }));
    }
    try {
      await supervisor.start();
    } catch (err) {
      await supervisor.done;
      throw err;
    } finally {
      this.poolDriver.podStarted();
    }
    if (req.detach) {
      const state = readPodState(this.rt.paths, spec.name);
      const failed = state?.containers.find((c) => c.reason === 'StartError');
      if (!failed && !before) return false;
      const names = [...(before ?? []), spec.name];
      this.finish(conn, {
        t: 'started',
        name: names[0]!,
        more: names.length > 1 ? names.slice(1) : undefined,
        failed: failed ? { name: failed.name, message: failed.message ?? '', exitCode: failed.exitCode ?? ExitCode.runtime } : undefined,
      });
      return failed !== undefined;
    }
    const code = await supervisor.done;
    this.finish(conn, { t: 'exit', code });
    return false;
  }

  /** What every supervisor of this daemon gets, started here or adopted. */
  private supervisorOptions(spec: PodSpec, output: SupervisorOutput): SupervisorOptions {
    return {
      ...this.rt,
      output,
      cgroupMover: this.mover,
      keepHostNetwork: true,
      pinImagesPerPod: true,
      monitor: this.o.monitor,
      writeBundle: this.o.writeBundle,
      deferNetwork: this.network,
    };
  }

  /** Keeps a pod's supervisor until the pod is done. */
  private host(name: string, hosted: HostedPod): void {
    this.pods.set(name, hosted);
    this.disarmIdleTimer();
    void hosted.supervisor.done.then(() => {
      if (this.pods.get(name) === hosted) this.pods.delete(name);
      this.poolDriver.podActivity();
      this.armIdleTimer();
    });
  }

  /**
   * `minipod daemon restart`: hands every pod to the next daemon without touching them. Only
   * pods that daemon will adopt (conmon holds their containers, they are past their start) can
   * go; otherwise nothing is done and the answer names the pod.
   */
  private async handover(conn: net.Socket): Promise<void> {
    for (const name of this.pods.keys()) {
      const state = readPodState(this.rt.paths, name);
      const why = state
        ? whyNotAdoptable(state, readAdoptionRecord(podLayout(this.rt.paths, name)), isAlive(state.init))
        : 'it has no state';
      if (why) {
        throw new UserError(`pod ${name} cannot be handed to a new daemon (${why}): wait for it, or \`minipod daemon stop\``, {
          code: 'daemon.handover',
        });
      }
    }
    this.shuttingDown = Promise.resolve();
    this.o.log(`handing over to the next daemon; pods: ${[...this.pods.keys()].join(', ') || 'none'}`);
    fs.rmSync(daemonFiles(this.rt.paths).socket, { force: true });
    this.server?.close();
    this.disarmIdleTimer();
    this.poolDriver.stop();
    for (const p of this.pods.values()) {
      p.supervisor.release();
      // Its client's stream ends here; the pod goes on detached under the next daemon.
      if (p.attached)
        this.finish(p.attached, {
          t: 'error',
          message: 'the minipod daemon restarted: the pod runs on, detached (`minipod logs -f`)',
          exitCode: 0,
        });
    }
    await Promise.all([this.pool.drain(), this.network.settled()]);
    await this.mover.stop();
    fs.rmSync(daemonFiles(this.rt.paths).pid, { force: true });
    this.finish(conn, { t: 'exit', code: 0 });
    this.resolveExit(0);
  }

  private stopAttached(conn: net.Socket, msg: AttachedClientMessage): void {
    for (const hosted of this.pods.values()) {
      if (hosted.attached === conn) void hosted.supervisor.stop({ signalExit: msg.signalExit });
    }
  }

  private async stopPod(conn: net.Socket, name: string, graceSeconds?: number): Promise<void> {
    const hosted = this.pods.get(name);
    if (!hosted) throw new UserError(`the minipod daemon does not run pod "${name}"`, { code: 'daemon.unknown-pod' });
    const code = await hosted.supervisor.stop({ graceSeconds });
    this.finish(conn, { t: 'exit', code });
  }

  private async removePods(conn: net.Socket, names: string[], force: boolean): Promise<void> {
    const missing = names.find((n) => !this.pods.has(n));
    if (missing !== undefined) throw new UserError(`the minipod daemon does not run pod "${missing}"`, { code: 'daemon.unknown-pod' });
    if (!force)
      throw new UserError(`pod "${names[0]}" is running: stop it first, or use \`minipod rm -f ${names[0]}\``, { code: 'pod.running' });
    for (const name of names) {
      const hosted = this.pods.get(name);
      await withPodLock(this.rt.paths, name, async () => {
        await hosted?.supervisor.stop({ graceSeconds: 0 });
        await teardownPod(name, {
          ...this.rt,
          warn: (m) => this.o.log(`rm ${name}: ${m}`),
          keepLogs: false,
          keepState: false,
          keepHostNetwork: true,
          deferNetwork: this.network,
        });
      });
    }
    this.finish(conn, { t: 'exit', code: 0 });
  }

  private status(): DaemonStatus {
    const mem = process.memoryUsage();
    return {
      pid: process.pid,
      pods: [...this.pods.keys()],
      warm: this.pool.size(),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed },
      uptimeSeconds: Math.round(process.uptime()),
    };
  }

  // ---- idle and shutdown ----

  private armIdleTimer(): void {
    if (this.o.idleMs <= 0 || this.shuttingDown || this.idleTimer) return;
    if (this.pods.size > 0 || this.clients.size > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.pods.size === 0 && this.clients.size === 0) void this.shutdown('idle');
    }, this.o.idleMs);
  }

  private disarmIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Stops accepting, stops every pod (with its grace period), empties the pool, exits. */
  shutdown(why: string): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.disarmIdleTimer();
      this.poolDriver.stop();
      this.o.log(`shutting down (${why}); pods: ${[...this.pods.keys()].join(', ') || 'none'}`);
      // No new clients from here; the socket file goes first so clients start a new daemon.
      fs.rmSync(daemonFiles(this.rt.paths).socket, { force: true });
      this.server?.close();
      await Promise.all([...this.pods.values()].map((p) => p.supervisor.stop()));
      // The pods' DELs still pending end before the host's network can go.
      await Promise.all([this.pool.drain(), this.network.settled()]);
      await this.mover.stop();
      // The host's network stays up while pods come and go; it goes with the daemon.
      for (const w of await cleanHostNetworkIfIdle(this.rt.paths).catch((err: unknown) => [(err as Error).message])) {
        this.o.log(`network cleanup: ${w}`);
      }
      fs.rmSync(daemonFiles(this.rt.paths).pid, { force: true });
      for (const c of this.clients) c.end();
      this.resolveExit(0);
    })();
    return this.shuttingDown;
  }
}
