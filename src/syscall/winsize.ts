/** struct winsize {ws_row, ws_col, ws_xpixel, ws_ypixel}: four unsigned shorts. */
import type { WindowSize } from './syscall.js';

export function encodeWinsize(size: WindowSize): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt16LE(clampShort(size.rows), 0);
  buf.writeUInt16LE(clampShort(size.cols), 2);
  return buf;
}

export function decodeWinsize(buf: Buffer): WindowSize {
  return { rows: buf.readUInt16LE(0), cols: buf.readUInt16LE(2) };
}

function clampShort(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), 0xffff) : 0;
}
