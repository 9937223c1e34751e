/**
 * Pod sandboxes booted ahead of need.
 *
 * Most of a pod's start is Node booting its helpers (~30 ms of CPU each: docs/performance.md).
 * The daemon keeps a few sandboxes ready: a pod init helper already in fresh PID, IPC, network
 * and UTS namespaces, and container helpers already in those namespaces (minipod's default of
 * one PID namespace per pod), every one booted and waiting for its plan. A pod that
 * fits takes one; the pool refills after that pod has started.
 *
 * Nothing of a pod is decided here: a warm helper has no mounts, cgroup, hostname or
 * credentials until its plan arrives, so a sandbox is interchangeable until claimed. A
 * hostNetwork pod gets freshly spawned helpers; a pod with a PID namespace per container
 * (shareProcessNamespace: false) or stdin takes the init and fresh container helpers.
 *
 * In conmon mode (the containers outlive the daemon) a sandbox has no container helpers but
 * pooled conmons instead (src/pod/held-pool.ts): each runs `minipod-oci create` on a stub
 * bundle, whose helper is booted in the sandbox's namespaces and waits for its config.
 *
 * How many container helpers or conmons a sandbox gets follows the pods that came
 * (./pool-policy.ts, sandboxSize). Those a pod leaves unused go with it: their helpers are
 * already in its namespaces, so they cannot serve another sandbox.
 *
 * Cost while idle: the helpers' memory, and the conmons' (reported by `minipod daemon status`
 * and the bench).
 */
import type { PodSpec } from '../manifest/types.js';
import type { PooledHeld } from '../pod/held-pool.js';
import { spawnInNamespaces } from '../namespaces/pod-namespaces.js';
import { discardHelper as kill, type Helper, helperExit, spawnHelper } from '../process/helper-client.js';
import { toOurPriority } from '../process/priority.js';
import type { Syscall } from '../syscall/syscall.js';

/** The longest a pod waits for a sandbox still booting before it spawns its own helpers (ms). */
export const BOOTING_WAIT_MS = 3000;

/** Most container helpers (or pooled conmons) per sandbox: enough for the usual app + sidecar(s) pod. */
export const WARM_CONTAINER_HELPERS = 3;

/**
 * How many of a pod's containers a sandbox's container helpers or pooled conmons could serve,
 * as claim and useSandbox (src/pod/warm-claim.ts) hand them out: none for a hostNetwork pod (it
 * claims no sandbox) or one with a PID namespace per container; else every container and init
 * container without stdin. Pure.
 */
export function sandboxDemand(spec: Pick<PodSpec, 'hostNetwork' | 'shareProcessNamespace' | 'containers' | 'initContainers'>): number {
  if (spec.hostNetwork || !spec.shareProcessNamespace) return 0;
  return [...spec.initContainers, ...spec.containers].filter((c) => !c.stdin).length;
}

export interface WarmSandbox {
  init: Helper;
  /** Booted container helpers, in the sandbox's PID, network, IPC and UTS namespaces. */
  containers: Helper[];
  /** Pooled conmons whose create's helper is in those namespaces (conmon mode). */
  held: PooledHeld[];
}

/** How the pool starts, waits for and drains pooled conmons (src/pod/held-pool.ts). */
export interface HeldSlots {
  spawn(initPid: number): PooledHeld;
  ready(entry: PooledHeld): Promise<boolean>;
  discard(entry: PooledHeld): Promise<void>;
  /** Gives the entry's processes (booted at nice 19) our priority: a pod takes or waits for it. */
  prioritize(entry: PooledHeld): void;
}

interface PoolEntry {
  sandbox: WarmSandbox;
  ready: Promise<boolean>;
  isReady: boolean;
  broken: boolean;
}

export class WarmPool {
  private readonly entries: PoolEntry[] = [];
  private draining = false;
  /** Containers the next sandboxes are booted for (at most the caps below). */
  private perSandbox = 1;

  constructor(
    private readonly sys: Syscall,
    /** Sandboxes to hold; the daemon changes it with demand (./pool-policy.ts). */
    private target: number,
    private readonly log: (m: string) => void,
    /** Most container helpers per sandbox: none when conmon and the OCI runtime make the containers. */
    private readonly containerHelpers = WARM_CONTAINER_HELPERS,
    /** Most pooled conmons per sandbox, when conmon makes the containers. */
    private readonly heldSlots?: { slots: HeldSlots; count: number },
  ) {}

  /**
   * Boots sandboxes until the pool holds `target`, the new ones made for `perSandbox` containers
   * (those already pooled keep their size); returns at once, the boots go on.
   */
  fill(target = this.target, perSandbox = this.perSandbox): void {
    this.target = target;
    this.perSandbox = perSandbox;
    if (this.draining) return;
    while (this.entries.length < this.target) {
      try {
        this.entries.push(this.spawnSandbox());
      } catch (err) {
        this.log(`warm pool: cannot boot a sandbox: ${(err as Error).message}`);
        return;
      }
    }
  }

  private spawnSandbox(): PoolEntry {
    const init = spawnInNamespaces(this.sys, { create: ['pid', 'ipc', 'net', 'uts'], join: null }, () => spawnHelper({ background: true }));
    const containers: Helper[] = [];
    const held: PooledHeld[] = [];
    try {
      for (let i = 0; i < Math.min(this.containerHelpers, this.perSandbox); i++) {
        containers.push(
          spawnInNamespaces(this.sys, { create: [], join: { pid: init.pid, namespaces: ['pid', 'ipc', 'net', 'uts'] } }, () =>
            spawnHelper({ background: true }),
          ),
        );
      }
      for (let i = 0; i < Math.min(this.heldSlots?.count ?? 0, this.perSandbox); i++) held.push(this.heldSlots!.slots.spawn(init.pid));
    } catch (err) {
      for (const h of [init, ...containers]) kill(h);
      for (const e of held) void this.heldSlots!.slots.discard(e);
      throw err;
    }
    const entry: PoolEntry = { sandbox: { init, containers, held }, ready: Promise.resolve(false), isReady: false, broken: false };
    const all = [init, ...containers];
    entry.ready = Promise.all([...all.map((h) => h.booted), ...held.map((e) => this.heldSlots!.slots.ready(e))]).then((oks) => {
      entry.isReady = oks.every(Boolean);
      if (!entry.isReady) this.drop(entry);
      return entry.isReady;
    });
    // A helper that dies while waiting makes the whole sandbox useless: drop it, boot another.
    for (const h of all) h.child.once('exit', () => this.drop(entry));
    // So does a pooled conmon that speaks before its claim (its create failed).
    for (const e of held) void e.conmon.settled.then(() => this.drop(entry));
    return entry;
  }

  /** A sandbox with a helper that died or never booted is useless: drop it, boot another later. */
  private drop(entry: PoolEntry): void {
    entry.broken = true;
    if (!this.entries.includes(entry)) return;
    this.discard(entry);
    if (!this.draining) setTimeout(() => this.fill(), 1000).unref();
  }

  /**
   * A booted sandbox for this pod, or undefined (none in the pool, or a hostNetwork pod). With
   * none ready but one booting, the pod waits for that one: its boot started earlier, so it
   * ends sooner than the helpers the pod would spawn beside it (up to BOOTING_WAIT_MS). Without
   * shareProcessNamespace the container helpers, in the pod's PID namespace, cannot serve and
   * are killed here. The caller owns what it gets.
   */
  async claim(spec: PodSpec): Promise<WarmSandbox | undefined> {
    if (spec.hostNetwork) return undefined;
    let i = this.entries.findIndex((e) => e.isReady && !e.broken);
    if (i < 0) i = this.entries.findIndex((e) => !e.broken);
    if (i < 0) return undefined;
    const [entry] = this.entries.splice(i, 1) as [PoolEntry];
    if (!entry.isReady) {
      // The pod waits for this boot now: it goes on at our priority, not at nice 19.
      for (const h of [entry.sandbox.init, ...entry.sandbox.containers]) toOurPriority(h.pid);
      for (const e of entry.sandbox.held) this.heldSlots!.slots.prioritize(e);
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([entry.ready, new Promise<false>((r) => (timer = setTimeout(() => r(false), BOOTING_WAIT_MS)))]);
      clearTimeout(timer);
      // Out of the pool: a helper that died meanwhile, a drain or a timeout leave it to us to discard.
      if (!ok || entry.broken || this.draining) {
        void this.discard(entry);
        return undefined;
      }
    }
    const { init, containers, held } = entry.sandbox;
    for (const h of [init, ...containers]) h.child.removeAllListeners('exit');
    // Booted at nice 19: on a busy host they would wait for a turn to read their plans.
    toOurPriority(init.pid);
    if (spec.shareProcessNamespace) {
      for (const h of containers) toOurPriority(h.pid);
      return { init, containers, held };
    }
    for (const h of containers) kill(h);
    for (const e of held) void this.heldSlots!.slots.discard(e);
    return { init, containers: [], held: [] };
  }

  /** Keeps at most `target` sandboxes: the others' helpers, booted or booting, are killed (conmons drained). */
  shrink(target: number): void {
    this.target = target;
    for (const entry of this.entries.slice(target)) void this.discard(entry);
  }

  /** Kills the sandbox's helpers and drains its pooled conmons; resolves once those are gone. */
  private discard(entry: PoolEntry): Promise<unknown> {
    const i = this.entries.indexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
    for (const h of [entry.sandbox.init, ...entry.sandbox.containers]) kill(h);
    const held = entry.sandbox.held.splice(0);
    return Promise.all(held.map((e) => this.heldSlots!.slots.discard(e)));
  }

  /** Resolves once every sandbox in the pool has booted (or failed to). */
  async settled(): Promise<void> {
    while (this.entries.some((e) => !e.isReady && !e.broken)) {
      await Promise.all(this.entries.map((e) => e.ready));
    }
  }

  size(): { sandboxes: number; helpers: number; conmons?: number } {
    return {
      sandboxes: this.entries.length,
      // A pooled conmon's create and its helper are two Node processes.
      helpers: this.entries.reduce((n, e) => n + 1 + e.sandbox.containers.length + 2 * e.sandbox.held.length, 0),
      ...(this.heldSlots ? { conmons: this.entries.reduce((n, e) => n + e.sandbox.held.length, 0) } : {}),
    };
  }

  /** Kills every waiting helper and waits until they are reaped. */
  async drain(): Promise<void> {
    this.draining = true;
    const entries = this.entries.splice(0);
    const all = entries.flatMap((e) => [e.sandbox.init, ...e.sandbox.containers]);
    await Promise.all([
      ...entries.flatMap((e) => e.sandbox.held.splice(0)).map((e) => this.heldSlots!.slots.discard(e)),
      ...all.map((h) => {
        const exited = h.child.exitCode !== null || h.child.signalCode !== null ? Promise.resolve() : helperExit(h, 0).then(() => {});
        kill(h);
        return exited;
      }),
    ]);
  }
}
