/**
 * The default network attached to a warm sandbox ahead of need (src/daemon/warm-pool.ts): CNI
 * ADD while the daemon is idle, so the pod that claims the sandbox skips it (~200 ms of plugin
 * processes back to back). Only hostPorts are pod-specific: a pod with them, or with another
 * network mode, never takes a pre-attached sandbox. The record is the sandbox's own id's, marked
 * `pooled` (gc leaves it while the daemon lives, undoes it after the daemon died); a pod that
 * claims it renames nothing but its owner, and its teardown DELs it under that id.
 */
import { withFileLock } from '../state/lock.js';
import { type MinipodPaths, networkFiles } from '../paths.js';
import { summarizeResult } from './cni/result.js';
import { attachBridge } from './pod.js';
import { readPodNetworkState, writePodNetworkState } from './state.js';
import type { PodNetworkStatus, WarnFn } from './types.js';

/** The pod name a sandbox's record carries until a pod claims it (also the plugins' K8S_POD_NAME). */
export const POOLED_POD_NAME = 'warm-pool';

/** CNI ADD of the default network on a warm sandbox's namespace, recorded under `id`. */
export async function attachPooledNetwork(o: { id: string; netnsPath: string; paths: MinipodPaths; warn: WarnFn }): Promise<void> {
  await attachBridge(
    // Niced, as the pool's boots: while pods come back to back it runs beside their start and
    // teardown, which need the CPU now (nice 10, not 19: it may hold host-local's or the
    // xtables lock that a pod's own ADD waits for).
    { podId: o.id, netnsPath: o.netnsPath, paths: o.paths, loopbackReady: true, warn: o.warn, pooled: true, nice: 10 },
    { podName: POOLED_POD_NAME, mode: 'bridge', wanted: [] },
  );
}

/** The pod `podName` takes the sandbox's attachment; undefined when it is gone (gc'd). */
export function claimPooledNetwork(paths: MinipodPaths, id: string, podName: string): Promise<PodNetworkStatus | undefined> {
  return withFileLock(networkFiles(paths).lock, async () => {
    const s = readPodNetworkState(paths, id);
    if (!s?.result || s.phase !== 'ready') return undefined;
    writePodNetworkState(paths, { ...s, podName, pooled: undefined });
    const r = summarizeResult(s.result, s.ifName);
    return {
      mode: 'bridge',
      ip: r.ip,
      prefixLength: r.prefixLength,
      gateway: r.gateway,
      interface: r.interface,
      network: s.confList.name,
      ports: [],
    };
  });
}
