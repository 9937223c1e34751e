/**
 * Content digests. Only sha256 is accepted: it is what every registry and tool writes, and
 * refusing the rest keeps one verification path (an image naming sha512 is refused clearly).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { UserError } from '../../errors.js';

const DIGEST = /^sha256:([a-f0-9]{64})$/;

/** The hex of a `sha256:<hex>` digest, or a UserError naming `what`. */
export function digestHex(digest: unknown, what = 'digest'): string {
  if (typeof digest !== 'string') throw new UserError(`${what}: missing or not a string`, { code: 'image.invalid' });
  const m = DIGEST.exec(digest);
  if (!m) {
    const shown = digest.length > 80 ? `${digest.slice(0, 80)}...` : digest;
    throw new UserError(`${what}: ${JSON.stringify(shown)} is not a sha256 digest (sha256:<64 hex digits>)`, { code: 'image.invalid' });
  }
  return m[1]!;
}

export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Passes bytes through while hashing and counting them; `limit` bounds the total. */
export class DigestingStream extends Transform {
  private readonly h: Hash = createHash('sha256');
  bytes = 0;
  constructor(
    private readonly limit = Number.POSITIVE_INFINITY,
    private readonly what = 'stream',
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(new UserError(`${this.what} is larger than ${this.limit} bytes`, { code: 'image.too-large' }));
      return;
    }
    this.h.update(chunk);
    cb(null, chunk);
  }
  hex(): string {
    return this.h.copy().digest('hex');
  }
}

/** Refuses `actual` unless it is `expected`; the message says what to suspect. */
export function checkDigest(what: string, expectedHex: string, actualHex: string): void {
  if (expectedHex !== actualHex) {
    throw new UserError(
      `${what}: content does not match its digest (expected sha256:${expectedHex.slice(0, 12)}..., got sha256:${actualHex.slice(0, 12)}...): corrupt or tampered`,
      { code: 'image.digest-mismatch' },
    );
  }
}
