/**
 * Kubernetes' probe semantics for one container instance (kubelet's prober workers):
 * - startupProbe, when set, runs first; liveness and readiness wait until it succeeds once.
 *   failureThreshold failures in a row: the container failed to start (kill, restart policy).
 * - livenessProbe: failureThreshold failures in a row: the container is unhealthy (kill,
 *   restart policy).
 * - readinessProbe: not ready until successThreshold successes in a row; not ready again after
 *   failureThreshold failures in a row. A container without one is ready once started.
 * - initialDelaySeconds counts from the container's start; then one probe every periodSeconds
 *   (measured start to start, never two at once); a probe that takes more than timeoutSeconds
 *   has failed.
 * One object per container *instance*: a restarted container gets a fresh one, as in kubelet.
 */
import type { Handler, Probe } from '../manifest/types.js';
import { type ActionRunner, type ProbeKind, type ProbeResult, realTimers, type Timers } from './types.js';

export interface ContainerProbeSpecs {
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}

export interface ProbeCallbacks {
  /** Readiness changed; starts false. Not called by stop(). */
  onReadyChange?(ready: boolean): void;
  /** The liveness probe failed failureThreshold times in a row. Probing has stopped. */
  onLivenessFailed?(last: ProbeResult): void;
  /** The startup probe failed failureThreshold times in a row. Probing has stopped. */
  onStartupFailed?(last: ProbeResult): void;
  /**
   * The container counts as started: its startup probe succeeded, or at once (inside start())
   * without one. The next init container may start after a sidecar is started.
   */
  onStarted?(): void;
  /** Every single probe result (events, debugging). */
  onResult?(kind: ProbeKind, result: ProbeResult): void;
}

export interface ContainerProbesOptions extends ProbeCallbacks {
  probes: ContainerProbeSpecs;
  run: ActionRunner;
  timers?: Timers;
}

/** Runs one probe periodically and counts consecutive results. */
class ProbeWorker {
  private handle: unknown;
  private controller?: AbortController;
  private stopped = false;
  successes = 0;
  failures = 0;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly run: ActionRunner,
    private readonly timers: Timers,
    private readonly onResult: (w: ProbeWorker, r: ProbeResult) => void,
  ) {}

  /** First probe at `firstAt` (a timers.now() value) or at once if that has passed. */
  start(firstAt: number): void {
    this.schedule(Math.max(0, firstAt - this.timers.now()));
  }

  stop(): void {
    this.stopped = true;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.controller?.abort();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      void this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const startedAt = this.timers.now();
    const result = await this.probeOnce();
    if (this.stopped) return;
    if (result.success) {
      this.successes++;
      this.failures = 0;
    } else {
      this.failures++;
      this.successes = 0;
    }
    this.onResult(this, result);
    const periodMs = this.probe.periodSeconds * 1000;
    this.schedule(Math.max(0, startedAt + periodMs - this.timers.now()));
  }

  private probeOnce(): Promise<ProbeResult> {
    const timeoutMs = this.probe.timeoutSeconds * 1000;
    const controller = new AbortController();
    this.controller = controller;
    const { exec, httpGet, tcpSocket, grpc } = this.probe;
    const handler: Handler = { exec, httpGet, tcpSocket, grpc };
    return new Promise<ProbeResult>((resolve) => {
      let settled = false;
      const settle = (r: ProbeResult): void => {
        if (settled) return;
        settled = true;
        this.timers.clearTimeout(timer);
        this.controller = undefined;
        resolve(r);
      };
      const timer = this.timers.setTimeout(() => {
        controller.abort();
        settle({ success: false, message: `timed out after ${this.probe.timeoutSeconds}s` });
      }, timeoutMs);
      let running: Promise<ProbeResult>;
      try {
        running = this.run(handler, { timeoutMs, signal: controller.signal });
      } catch (err) {
        running = Promise.reject(err);
      }
      running.then(settle, (err: unknown) => settle({ success: false, message: (err as Error)?.message ?? String(err) }));
    });
  }
}

export class ContainerProbes {
  private readonly o: ContainerProbesOptions;
  private readonly timers: Timers;
  private workers: ProbeWorker[] = [];
  private startedAt = 0;
  private active = false;
  private _ready = false;
  private _started = false;

  constructor(options: ContainerProbesOptions) {
    this.o = options;
    this.timers = options.timers ?? realTimers;
  }

  /** Readiness as last reported through onReadyChange. */
  get ready(): boolean {
    return this._ready;
  }

  /** The startup probe has succeeded (or there is none). */
  get started(): boolean {
    return this._started;
  }

  /**
   * Call once the container's process runs (after a postStart hook succeeded). A container
   * without startup and readiness probes becomes ready at once, inside this call.
   */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.startedAt = this.timers.now();
    const { startupProbe } = this.o.probes;
    if (startupProbe) this.startWorker('startup', startupProbe);
    else this.afterStartup();
  }

  /** The container exited or is being stopped: no more probes, no more callbacks. */
  stop(): void {
    this.active = false;
    for (const w of this.workers) w.stop();
    this.workers = [];
  }

  private startWorker(kind: ProbeKind, probe: Probe): void {
    const w = new ProbeWorker(kind, probe, this.o.run, this.timers, (worker, r) => this.onResult(worker, r));
    this.workers.push(w);
    w.start(this.startedAt + probe.initialDelaySeconds * 1000);
  }

  private afterStartup(): void {
    this._started = true;
    this.o.onStarted?.();
    const { livenessProbe, readinessProbe } = this.o.probes;
    if (livenessProbe) this.startWorker('liveness', livenessProbe);
    if (readinessProbe) this.startWorker('readiness', readinessProbe);
    else this.setReady(true);
  }

  private onResult(w: ProbeWorker, r: ProbeResult): void {
    if (!this.active) return;
    this.o.onResult?.(w.kind, r);
    const probe = this.o.probes[`${w.kind}Probe`]!;
    switch (w.kind) {
      case 'startup':
        if (r.success) {
          w.stop();
          this.workers = this.workers.filter((x) => x !== w);
          this.afterStartup();
        } else if (w.failures >= probe.failureThreshold) {
          this.stop();
          this.o.onStartupFailed?.(r);
        }
        return;
      case 'liveness':
        if (!r.success && w.failures >= probe.failureThreshold) {
          this.stop();
          this.o.onLivenessFailed?.(r);
        }
        return;
      case 'readiness':
        if (r.success && w.successes >= probe.successThreshold) this.setReady(true);
        else if (!r.success && w.failures >= probe.failureThreshold) this.setReady(false);
        return;
    }
  }

  private setReady(ready: boolean): void {
    if (ready === this._ready) return;
    this._ready = ready;
    this.o.onReadyChange?.(ready);
  }
}
