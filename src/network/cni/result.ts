/**
 * Reading CNI results: the runtime needs the pod's address, gateway and interface for /etc/hosts,
 * `inspect` and the saved state that DEL gets back as prevResult.
 */
import { CniError } from './errors.js';
import type { CniResult } from './types.js';

/** The result of an ADD (the only command with one); a malformed one is the plugin's failure. */
export function parseCniResult(plugin: string, stdout: string): CniResult {
  let obj: unknown;
  try {
    obj = JSON.parse(stdout);
  } catch {
    throw new CniError(plugin, 'ADD', `result is not JSON: ${stdout.slice(0, 200)}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new CniError(plugin, 'ADD', `result is not a JSON object`);
  }
  const r = obj as Record<string, unknown>;
  if (typeof r.cniVersion !== 'string') throw new CniError(plugin, 'ADD', `result has no cniVersion`);
  // Pre-0.3 results (`ip4: {ip, gateway}`) are converted so the rest only knows one shape.
  if (!r.ips && r.ip4 && typeof r.ip4 === 'object') {
    const ip4 = r.ip4 as { ip?: string; gateway?: string };
    if (ip4.ip) r.ips = [{ address: ip4.ip, gateway: ip4.gateway, version: '4' }];
  }
  if (r.ips !== undefined && !Array.isArray(r.ips)) throw new CniError(plugin, 'ADD', `result.ips is not a list`);
  return r as CniResult;
}

export interface ResultSummary {
  ip?: string;
  prefixLength?: number;
  gateway?: string;
  interface?: string;
}

function isV4(address: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(address);
}

/** The pod's IPv4 address: the first one on an interface inside the sandbox (`ifName`). */
export function summarizeResult(result: CniResult, ifName = 'eth0'): ResultSummary {
  const ifaces = result.interfaces ?? [];
  const ips = (result.ips ?? []).filter((c) => isV4(c.address));
  const onPod =
    ips.find((c) => {
      if (c.interface === undefined) return true;
      const iface = ifaces[c.interface];
      return iface !== undefined && iface.sandbox !== undefined && iface.sandbox !== '' && iface.name === ifName;
    }) ?? ips[0];
  if (!onPod) return {};
  const [ip, prefix] = onPod.address.split('/');
  const iface = onPod.interface !== undefined ? ifaces[onPod.interface]?.name : ifName;
  return {
    ip,
    prefixLength: prefix === undefined ? undefined : Number(prefix),
    gateway: onPod.gateway,
    interface: iface ?? ifName,
  };
}
