/** IPv4 routes of the host, to keep the pod subnet from shadowing a network the host uses. */
import fs from 'node:fs';

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefixLength: number;
}

export interface Ipv4Route extends Ipv4Cidr {
  iface: string;
}

export function ipv4ToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function parseCidr(cidr: string): Ipv4Cidr {
  const [ip, len] = cidr.split('/');
  const prefixLength = len === undefined ? 32 : Number(len);
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return { base: (ipv4ToNumber(ip!) & mask) >>> 0, prefixLength };
}

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const len = Math.min(a.prefixLength, b.prefixLength);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0;
}

/** Parses /proc/net/route (little-endian hex fields). */
export function parseProcNetRoute(text: string): Ipv4Route[] {
  const routes: Ipv4Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = Number.parseInt(f[1]!, 16);
    const mask = Number.parseInt(f[7]!, 16);
    const swap = (n: number) =>
      (((n & 0xff) << 24) >>> 0) + ((n >>> 8) & 0xff) * 0x10000 + ((n >>> 16) & 0xff) * 0x100 + ((n >>> 24) & 0xff);
    const m = swap(mask);
    let prefixLength = 0;
    while (prefixLength < 32 && (m & (0x80000000 >>> prefixLength)) !== 0) prefixLength++;
    routes.push({ iface: f[0]!, base: swap(dest), prefixLength });
  }
  return routes;
}

export function readHostRoutes(): Ipv4Route[] {
  try {
    return parseProcNetRoute(fs.readFileSync('/proc/net/route', 'utf8'));
  } catch {
    return [];
  }
}
