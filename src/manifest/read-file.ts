/**
 * Reading a manifest file, apart from parsing it: the `minipod run` client reads the file (the
 * user's path, relative to their directory) and the daemon parses the text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { ManifestError, oneLine } from './issues.js';

export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** An error about the manifest file itself: `pod.yaml:3:5: ...`. */
export function manifestFileError(source: string | undefined, message: string, pos?: { line: number; col: number }): ManifestError {
  const where = source ? `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ` : pos ? `line ${pos.line}, column ${pos.col}: ` : '';
  return new ManifestError([{ path: '', message: oneLine(`${where}${message}`) }]);
}

/** The manifest's text and its absolute folder (relative image paths resolve against it). */
export function readManifestFile(file: string): { text: string; dir: string } {
  const abs = path.resolve(file);
  try {
    const st = fs.statSync(abs);
    if (!st.isFile()) throw manifestFileError(file, 'not a regular file');
    if (st.size > MAX_MANIFEST_BYTES) throw manifestFileError(file, `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    return { text: readBounded(abs, file), dir: path.dirname(abs) };
  } catch (err) {
    if (err instanceof ManifestError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UserError(oneLine(`${file}: cannot read manifest: ${why}`), { code: 'manifest.unreadable', cause: err });
  }
}

/** Reads at most MAX_MANIFEST_BYTES + 1, so a file that grows after stat cannot make us read more. */
function readBounded(file: string, source: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_MANIFEST_BYTES) throw manifestFileError(source, `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
