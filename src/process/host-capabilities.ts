/**
 * The capabilities this process (the daemon) may hand to a container: its own bounding set,
 * read once from /proc/self/status. A container can never get more, so a privileged container
 * gets exactly these.
 */
import fs from 'node:fs';

let cached: number[] | undefined;

/** The bits set in a /proc/PID/status capability mask (hex). */
export function capabilityBits(hexMask: string): number[] {
  const mask = BigInt(`0x${hexMask.trim() || '0'}`);
  const bits: number[] = [];
  for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) bits.push(bit);
  return bits;
}

export function hostBoundingCapabilities(): number[] {
  if (!cached) {
    const line = fs
      .readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapBnd:'));
    cached = capabilityBits(line?.slice('CapBnd:'.length) ?? '0');
  }
  return cached;
}
