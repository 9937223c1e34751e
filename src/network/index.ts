/** Pod networking through the standard CNI plugins; see docs/networking.md. */
export { checkHostPorts, checkPodNetwork, cleanHostNetworkIfIdle, gcNetwork, setupPodNetwork, teardownPodNetwork } from './pod.js';
export type { GcNetworkReport, SetupPodNetworkOptions, TeardownPodNetworkOptions } from './pod.js';
export type { NetworkMode, PodNetworkStatus, PublishedPort, WarnFn } from './types.js';
export { renderEtcHosts, type HostAlias } from './hosts.js';
export { readHostResolvConf, renderResolvConf, type RenderedResolvConf } from './dns.js';
export { ensureDefaultConfList, DEFAULT_BRIDGE, DEFAULT_NETWORK_NAME, DEFAULT_SUBNET } from './default-config.js';
export { podNetworkMode, publishedPorts } from './ports.js';
export { CniError } from './cni/errors.js';
export { holdPodNetns, podNetworkRecord, type HeldNetns } from './held-netns.js';
