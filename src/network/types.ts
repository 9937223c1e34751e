/**
 * Public types of the pod network. The lead's pod-start code stores a PodNetworkStatus with the
 * pod (for `inspect`/`ps`) and hands it back to teardown.
 */
import type { PortProtocol } from '../manifest/types.js';

export type NetworkMode = 'bridge' | 'none' | 'host';

/** One `containers[i].ports[j]` that is reachable on the host. */
export interface PublishedPort {
  containerName: string;
  containerPort: number;
  hostPort: number;
  /** Empty string: every host address. */
  hostIP: string;
  protocol: PortProtocol;
  /** Manifest path of the field, for messages: `spec.containers[0].ports[1].hostPort`. */
  field: string;
}

export interface PodNetworkStatus {
  mode: NetworkMode;
  /** The pod's IPv4 address (bridge mode). */
  ip?: string;
  /** Prefix length of `ip`'s subnet. */
  prefixLength?: number;
  gateway?: string;
  /** Interface name inside the pod, `eth0`. */
  interface?: string;
  /** Name of the CNI network (the conflist's `name`). */
  network?: string;
  ports: PublishedPort[];
}

/** Where warnings go; the CLI decides how to print them. */
export type WarnFn = (message: string) => void;
