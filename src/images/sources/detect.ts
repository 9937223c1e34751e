/**
 * What a tarball is, by its content: a root filesystem, an OCI archive or a docker archive.
 * Reads tar headers (decompressing gzip) until the top-level names decide: `oci-layout` means
 * an OCI archive; a root filesystem's directories (etc, bin, usr, ...) mean a rootfs; a
 * `manifest.json` with neither means a docker archive. Stops early; never writes anything.
 */
import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import type { Compression } from '../sniff.js';

export type TarKind = 'rootfs' | 'oci-archive' | 'docker-archive';

const ROOTFS_DIRS = new Set(['etc', 'bin', 'usr', 'lib', 'sbin', 'var', 'lib64', 'opt', 'home', 'root']);
const MAX_SCANNED = 256;

export function classifyTopLevel(names: Iterable<string>): TarKind | null {
  const set = new Set(names);
  if (set.has('oci-layout')) return 'oci-archive';
  for (const n of set) if (ROOTFS_DIRS.has(n)) return 'rootfs';
  return null;
}

export async function detectTarKind(file: string, compression: Compression): Promise<TarKind> {
  if (compression !== 'none' && compression !== 'gzip') return 'rootfs'; // refused later with its own message
  const top = new Set<string>();
  const read = createReadStream(file);
  const input: Readable = compression === 'gzip' ? pipeline(read, createGunzip(), () => {}) : read;
  const extract = tarStream.extract();
  let decided: TarKind | null = null;
  let scanned = 0;
  try {
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        resolve();
      };
      extract.on('entry', (h, stream, next) => {
        const first = h.name.replace(/^(\.?\/)+/, '').split('/')[0] ?? '';
        if (first !== '') top.add(first);
        decided = classifyTopLevel(top);
        stream.resume();
        if (decided !== null || ++scanned >= MAX_SCANNED) {
          stop();
          return;
        }
        stream.on('end', () => next());
      });
      extract.on('finish', stop);
      extract.on('error', stop);
      extract.on('close', stop);
      input.on('error', stop);
      input.pipe(extract);
    });
  } finally {
    input.unpipe?.(extract);
    input.destroy();
    extract.destroy();
  }
  if (decided !== null) return decided;
  return top.has('manifest.json') ? 'docker-archive' : 'rootfs';
}
