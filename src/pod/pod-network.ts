/**
 * The pod's network at its start (src/pod/supervisor.ts): the default network its warm sandbox
 * had attached ahead of need (src/network/pooled.ts) when it got one, else CNI ADD now; then
 * /etc/hosts and resolv.conf.
 */
import type { PodSpec } from '../manifest/types.js';
import type { PodNetworkStatus } from '../network/types.js';
import type { PodLayout } from '../paths.js';
import type { PodState } from '../state/pod-state.js';
import type { PodHost } from './host.js';
import { writePodNetworkFiles } from './pod-files.js';

export async function setUpPodNetwork(
  host: PodHost,
  spec: PodSpec,
  layout: PodLayout,
  state: PodState,
  warn: (message: string) => void,
): Promise<PodNetworkStatus> {
  // A claimed sandbox's attachment (state.networkId) stays recorded under its own id: DEL uses the ID ADD used.
  const pooled = state.networkId ? await host.claimPooledNetwork?.(state.networkId, spec.name) : undefined;
  if (!pooled) state.networkId = undefined; // gone (gc'd meanwhile): this pod attaches itself
  const network =
    pooled ??
    (await host.setupNetwork({
      pod: spec,
      podId: state.uid ?? spec.name, // each instance its own CNI ID (network-teardown.ts)
      netnsPath: state.netnsPath,
      loopbackReady: true,
      warn,
    }));
  state.network = network;
  for (const w of writePodNetworkFiles(layout, spec, network.ip, host.readHostResolvConf())) warn(w);
  return network;
}
