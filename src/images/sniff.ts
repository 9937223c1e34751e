/**
 * Content sniffing: what a file is, from its first bytes rather than its name, so a `.tar`
 * that is really gzip (or a tarball without an extension) is handled right.
 */
import { promises as fsp } from 'node:fs';

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export interface Sniffed {
  compression: Compression;
  /** Only known for uncompressed data: the ustar/GNU magic at offset 257. */
  isTar?: boolean;
}

export async function sniffFile(file: string): Promise<Sniffed> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return sniff(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export function sniff(b: Buffer): Sniffed {
  const starts = (...bytes: number[]) => bytes.every((v, i) => b[i] === v);
  if (starts(0x1f, 0x8b)) return { compression: 'gzip' };
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return { compression: 'zstd' };
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return { compression: 'xz' };
  if (starts(0x42, 0x5a, 0x68)) return { compression: 'bzip2' };
  // "ustar\0" (POSIX) or "ustar " (GNU) at offset 257 of the first header.
  const isTar = b.length >= 263 && b.subarray(257, 262).toString('latin1') === 'ustar';
  return { compression: 'none', isTar };
}
