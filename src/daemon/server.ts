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
import { ExitCode, HostError, UserError } from '../errors.js';
import { formatWarning, loadManifestBundle } from '../manifest/bundle.js';
import { ensureClaimVolumes } from '../volumes/pod-volumes.js';
import type { BundleClaim } from '../manifest/kinds.js';
import { cleanHostNetworkIfIdle } from '../network/index.js';
import type { PodSpec } from '../manifest/types.js';
import { gc } from '../pod/control.js';
import { podLayout } from '../paths.js';
import { PodSupervisor, type SupervisorOutput } from '../pod/supervisor.js';
import { readPodState, withPodLock } from '../state/pod-state.js';
import { teardownPod } from '../pod/teardown.js';
import { hostRuntime, type Runtime } from '../pod/runtime.js';
import {
  type AttachedClientMessage,
  type DaemonMessage,
  type DaemonRequest,
  type DaemonStatus,
  daemonLockPath,
  daemonPidPath,
  daemonSocketPath,
  PROTOCOL_VERSION,
  readJsonLines,
  writeJsonLine,
} from './protocol.js';
import { WarmPool } from './warm-pool.js';
import { CgroupMover } from '../cgroups/mover.js';

/** How long pods must have stopped starting and stopping before the warm pool refills. */
const REFILL_QUIET_MS = 250;

export interface DaemonOptions {
  /** Exit after this long without pods or clients; 0 = never. */
  idleMs: number;
  /** How many pod sandboxes to keep booted ahead of need (0 = none). */
  warmSandboxes: number;
  /** Tells whoever started us that we listen (or that another daemon already does). */
  ready: (message: { ok: true } | { busy: true } | { error: string }) => void;
  log: (message: string) => void;
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
  private refillTimer?: NodeJS.Timeout;
  private shuttingDown?: Promise<void>;
  private resolveExit!: (code: number) => void;
  private readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));
  private readonly pool: WarmPool;
  private readonly mover = new CgroupMover();

  constructor(rt: Runtime, options: DaemonOptions) {
    this.rt = rt;
    this.o = options;
    this.pool = new WarmPool(rt.sys, options.warmSandboxes, options.log);
  }

  /** Runs until shutdown; resolves with the process's exit status. */
  async run(): Promise<number> {
    const { paths } = this.rt;
    fs.mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
    // Held until we exit: the kernel drops it if we die, so a successor can always start.
    const lockFd = fs.openSync(daemonLockPath(paths), 'a', 0o600);
    if (!this.rt.sys.flock(lockFd, 'exclusive')) {
      fs.closeSync(lockFd);
      this.o.ready({ busy: true });
      return 0;
    }
    fs.writeFileSync(daemonPidPath(paths), `${process.pid}\n`);
    // Every pod of a previous daemon is an orphan now: free what it left before starting new ones.
    const report = await gc({ ...this.rt, warn: (m) => this.o.log(`gc: ${m}`) });
    if (report.pods.length > 0) this.o.log(`gc: tore down pods of a previous daemon: ${report.pods.join(', ')}`);

    const socketPath = daemonSocketPath(paths);
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
    this.mover.start();
    // Not at once: the client that started us is about to send its pod, whose helpers must
    // not compete with the pool's boots.
    this.scheduleRefill();
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
    if (req.version !== PROTOCOL_VERSION) {
      throw new UserError(
        `the running minipod daemon speaks protocol ${PROTOCOL_VERSION}, this client ${req.version}: stop it with \`minipod daemon stop\``,
      );
    }
    // status and shutdown do not depend on the client's settings: the refusal below tells the
    // user to `minipod daemon stop`, which must then work.
    if (req.op !== 'status' && req.op !== 'shutdown' && JSON.stringify(req.paths) !== JSON.stringify(this.rt.paths)) {
      throw new UserError(
        `the minipod daemon for ${this.rt.paths.runDir} runs with other directories or cgroup parent (${JSON.stringify(this.rt.paths)}): stop it with \`minipod daemon stop\` first`,
        { code: 'daemon.settings' },
      );
    }
    if (this.shuttingDown && req.op !== 'status' && req.op !== 'shutdown') {
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
        this.disarmRefill();
        this.pool.fill();
        await this.pool.settled();
        return this.finish(conn, { t: 'exit', code: 0 });
      case 'shutdown':
        this.finish(conn, { t: 'exit', code: 0 });
        await this.shutdown('minipod daemon stop');
        return;
    }
  }

  private fail(conn: net.Socket, err: unknown): void {
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

    const output = req.detach ? this.detachedOutput(spec) : attachedOutput(conn, spec);
    const supervisor = new PodSupervisor(spec, {
      ...this.rt,
      output,
      manifestPath: req.manifests?.[0]?.path ?? req.manifestPath,
      keepRecord: req.detach,
      trace,
      warm: this.pool,
      cgroupMover: this.mover,
      keepHostNetwork: true,
      pinImagesPerPod: true,
    });
    const hosted: HostedPod = { supervisor, attached: req.detach ? undefined : conn };
    this.pods.set(spec.name, hosted);
    this.disarmIdleTimer();
    void supervisor.done.then(() => {
      if (this.pods.get(spec.name) === hosted) this.pods.delete(spec.name);
      this.scheduleRefill();
      this.armIdleTimer();
    });
    if (!req.detach) {
      // The attached client is the pod's owner: if it goes away without a word, so does the pod.
      conn.on('close', () => void supervisor.stop({ signalExit: 129 }));
    }
    try {
      await supervisor.start();
    } catch (err) {
      await supervisor.done;
      throw err;
    }
    this.scheduleRefill();
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
        });
      });
    }
    this.finish(conn, { t: 'exit', code: 0 });
  }

  /** Detached pods have no terminal: minipod's messages go to the pod's events file. */
  private detachedOutput(spec: PodSpec): SupervisorOutput {
    const layout = podLayout(this.rt.paths, spec.name);
    return {
      line: () => {},
      event: (message) => {
        try {
          fs.mkdirSync(layout.logDir, { recursive: true });
          fs.appendFileSync(`${layout.logDir}/minipod.events`, `${new Date().toISOString()} ${message}\n`);
        } catch {
          // Nowhere left to say it.
        }
      },
    };
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

  // ---- the warm pool ----

  /**
   * Refills the pool once pods have stopped starting and stopping for a moment. Booting Node
   * helpers, even at the lowest priority, slowed a pod's teardown on 2 CPUs by ~40 ms (page
   * faults and mm work are not niced), so the boots wait for a quiet moment.
   */
  private scheduleRefill(): void {
    this.disarmRefill();
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.pool.fill();
    }, REFILL_QUIET_MS);
  }

  private disarmRefill(): void {
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
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
      this.disarmRefill();
      this.o.log(`shutting down (${why}); pods: ${[...this.pods.keys()].join(', ') || 'none'}`);
      // No new clients from here; the socket file goes first so clients start a new daemon.
      fs.rmSync(daemonSocketPath(this.rt.paths), { force: true });
      this.server?.close();
      await Promise.all([...this.pods.values()].map((p) => p.supervisor.stop()));
      await this.pool.drain();
      await this.mover.stop();
      // The host's network stays up while pods come and go; it goes with the daemon.
      for (const w of await cleanHostNetworkIfIdle(this.rt.paths).catch((err: unknown) => [(err as Error).message])) {
        this.o.log(`network cleanup: ${w}`);
      }
      fs.rmSync(daemonPidPath(this.rt.paths), { force: true });
      for (const c of this.clients) c.end();
      this.resolveExit(0);
    })();
    return this.shuttingDown;
  }
}

/** Output queued for an attached client beyond this is dropped (the logs keep every line). */
const ATTACHED_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * `web | line` with names padded to one width, like compose, so columns line up. A client that
 * stops reading (a paused terminal) must not make the daemon buffer without bound: past the
 * backlog, lines are counted instead of queued, and the client is told how many it missed.
 */
function attachedOutput(conn: net.Socket, spec: PodSpec): SupervisorOutput {
  const names = [...spec.initContainers, ...spec.containers].map((c) => c.name);
  const width = Math.max(...names.map((n) => n.length));
  let dropped = 0;
  const send = (s: 'stdout' | 'stderr', x: string): void => {
    if (conn.writableLength > ATTACHED_BACKLOG_BYTES) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      writeJsonLine(conn, {
        t: 'out',
        s: 'stderr',
        x: `minipod: ${dropped} lines not shown (the reader was too slow); \`minipod logs ${spec.name}\` has them\n`,
      });
      dropped = 0;
    }
    writeJsonLine(conn, { t: 'out', s, x });
  };
  return {
    line: (container, stream, text) => send(stream, `${container.padEnd(width)} | ${text}\n`),
    event: (message) => send('stderr', `minipod: ${message}\n`),
  };
}

/** `minipod daemon run`: the daemon in this process, logging to stderr. */
export async function runDaemonProcess(options: { idleMs: number; warmSandboxes: number; readyFd?: number }): Promise<number> {
  const rt = hostRuntime();
  process.title = 'minipod-daemon';
  const log = (m: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  };
  const ready = (msg: object): void => {
    if (options.readyFd === undefined) return;
    try {
      fs.writeSync(options.readyFd, JSON.stringify(msg) + '\n');
      fs.closeSync(options.readyFd);
    } catch {
      // Whoever started us is gone; we serve the next client.
    }
  };
  // A bug of ours must not take every pod's supervisor down with it: log it and go on.
  process.on('uncaughtException', (err) => log(`internal error (uncaught): ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => log(`internal error (unhandled rejection): ${(err as Error)?.stack ?? String(err)}`));
  const daemon = new PodDaemon(rt, { ...options, ready, log });
  try {
    return await daemon.run();
  } catch (err) {
    ready({ error: (err as Error).message });
    log(`cannot start: ${(err as Error).stack ?? String(err)}`);
    return ExitCode.runtime;
  }
}
