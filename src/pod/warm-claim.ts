/**
 * What a pod does with the warm sandbox it claimed (src/daemon/warm-pool.ts): the booted
 * helpers (the daemon holds the containers) or the pooled conmons (conmon mode, held-pool.ts)
 * serve the first start of each container in order, but one with stdin; what is left over goes.
 */
import type { Helper } from '../process/helper-client.js';
import type { PooledHeld } from './held-pool.js';
import type { PodHost } from './host.js';

export interface ClaimedSandbox {
  init: Helper;
  containers: Helper[];
  held?: PooledHeld[];
}

interface Run {
  spec: { stdin: boolean };
  helper?: Helper;
  pooled?: PooledHeld;
}

/** Hands the sandbox's helpers or conmons to the runs; returns how many were used. */
export function useSandbox(runs: readonly Run[], sandbox: ClaimedSandbox, heldByConmon: boolean, host: PodHost): number {
  const spare = [...sandbox.containers];
  const pooled = [...(sandbox.held ?? [])];
  let used = 0;
  for (const r of runs) {
    if (r.spec.stdin) continue;
    if (heldByConmon && pooled.length > 0) r.pooled = pooled.shift();
    else if (!heldByConmon && spare.length > 0) r.helper = spare.shift();
    else continue;
    used++;
  }
  for (const h of spare) host.discardHelper(h);
  for (const e of pooled) host.held?.discardPooled(e);
  return used;
}

/** The pooled conmons runs never started with (the pod failed or stopped first) go. */
export function dropUnusedPooled(runs: Run[], host: PodHost): void {
  for (const r of runs) {
    if (r.pooled) host.held?.discardPooled(r.pooled);
    r.pooled = undefined;
  }
}
