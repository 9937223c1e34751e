/** The CNI spec's JSON shapes (1.0.0, with what 0.3.x/0.4.0 results add or lack). */

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/** One plugin entry of a conflist; everything besides `type` belongs to the plugin. */
export interface CniPluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniConfList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: CniPluginConf[];
  [key: string]: unknown;
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIpConfig {
  /** CIDR, e.g. `10.89.0.2/24`. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
  /** 0.3.x/0.4.0 only: `4` or `6`. */
  version?: string;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [key: string]: unknown;
}

/** Runtime-supplied values handed to plugins that declare the capability. */
export interface CniRuntimeConfig {
  portMappings?: CniPortMapping[];
  [capability: string]: unknown;
}

export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** What the runtime knows about the attachment, the same for every plugin in the list. */
export interface CniRuntime {
  containerId: string;
  /** Empty for DEL when the namespace is gone. */
  netns: string;
  ifName: string;
  /** Directories searched for plugin binaries (CNI_PATH). */
  pluginDirs: string[];
  runtimeConfig?: CniRuntimeConfig;
  /** CNI_ARGS, `K=V;K=V`. */
  args?: string;
  timeoutMs?: number;
}
