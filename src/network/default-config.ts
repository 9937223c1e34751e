/**
 * The default network: a conflist minipod writes once to `<cniConfDir>/minipod.conflist` and
 * then only reads, so a user can edit it (same JSON format as podman's and Kubernetes').
 */
import fs from 'node:fs';
import { cniConflistPath, ipamDataDir, type MinipodPaths } from '../paths.js';
import { writeFileAtomic } from '../state/lock.js';
import type { CniConfList } from './cni/types.js';
import { parseCidr, overlaps, readHostRoutes, type Ipv4Route } from './routes.js';

export const DEFAULT_NETWORK_NAME = 'minipod';
export const DEFAULT_BRIDGE = 'minipod0';
/** Preferred subnet; if a host route already covers it, the next free 10.89.N.0/24 is used. */
export const DEFAULT_SUBNET = '10.89.0.0/24';

export interface DefaultConfListOptions {
  subnet: string;
  bridge?: string;
  name?: string;
  dataDir: string;
}

export function renderDefaultConfList(o: DefaultConfListOptions): CniConfList {
  return {
    cniVersion: '1.0.0',
    name: o.name ?? DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: o.bridge ?? DEFAULT_BRIDGE,
        isGateway: true,
        // minipod masquerades the whole subnet with one chain (planMasquerade): the plugin's
        // per-pod chain cost 8 iptables execs on every ADD.
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: o.subnet }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: o.dataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall' },
    ],
  };
}

/**
 * First 10.89.N.0/24 that no host route overlaps (the default route and routes through our own
 * bridge do not count). Undefined if all 256 are taken.
 */
export function chooseSubnet(routes: Ipv4Route[], bridge = DEFAULT_BRIDGE): string | undefined {
  const relevant = routes.filter((r) => r.prefixLength > 0 && r.iface !== bridge);
  for (let n = 0; n < 256; n++) {
    const cand = `10.89.${n}.0/24`;
    const c = parseCidr(cand);
    if (!relevant.some((r) => overlaps(c, r))) return cand;
  }
  return undefined;
}

/** Writes the default conflist if there is none; returns its path. */
export function ensureDefaultConfList(paths: MinipodPaths): string {
  const file = cniConflistPath(paths);
  if (fs.existsSync(file)) return file;
  const subnet = chooseSubnet(readHostRoutes()) ?? DEFAULT_SUBNET;
  const list = renderDefaultConfList({ subnet, dataDir: ipamDataDir(paths) });
  writeFileAtomic(file, `${JSON.stringify(list, null, 2)}\n`);
  return file;
}
