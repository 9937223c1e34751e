/**
 * A safe tar unpacker for untrusted root filesystems and (later) image layers.
 *
 * Safety rules (docs/images.md repeats them for users):
 * - names are confined to the root (names.ts): leading `/` stripped, escaping `..` refused;
 * - nothing is created through a symlink: parents are lstat-checked real directories
 *   (tree.ts), files are opened O_CREAT|O_EXCL|O_NOFOLLOW, metadata is set through handles
 *   opened O_NOFOLLOW or with l* calls;
 * - symlinks are created verbatim: their targets may point anywhere, because they are only
 *   ever resolved inside the container's mount namespace, never by us;
 * - hard links must name a regular file already unpacked in this tree, reached without symlinks;
 * - device nodes and fifos are not created (counted in the stats): a container gets its /dev
 *   from minipod, and an image must not smuggle in a node for the host's disk;
 * - owners are the numeric uid/gid of the header (uname/gname ignored, like --numeric-owner),
 *   modes are applied exactly (setuid/setgid/sticky kept, umask not applied), mtimes set;
 * - the entry count, the total file bytes and the path length are bounded;
 * - the archive must end with tar's end-of-archive marker, so a tarball cut at an entry
 *   boundary is not mistaken for a complete one (gzip's trailer catches other truncations).
 * Extended attributes from pax records are NOT applied (counted): tar-stream decodes pax values
 * as UTF-8, which corrupts binary ones such as security.capability, and `trusted.*` from an
 * image must never reach overlayfs (it would let an image forge whiteouts or redirects).
 */
import { promises as fsp } from 'node:fs';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import tarStream from 'tar-stream';
import { UserError } from '../../errors.js';
import { confineName, DEFAULT_MAX_PATH_BYTES } from './names.js';
import { ConfinedTree, CREATE_FILE_FLAGS, hostile, OPEN_DIR_FLAGS } from './tree.js';
import { lsetxattr, mknodWhiteout } from './libc.js';
import { OVERLAY_OPAQUE_XATTR, whiteoutKind, type WhiteoutKind, type WhiteoutMode } from './whiteout.js';

export interface UnpackLimits {
  /** Sum of regular-file sizes. Default 8 GiB. */
  maxBytes?: number;
  /** Every header counts, skipped ones too. Default 1,000,000. */
  maxEntries?: number;
  /** Bytes of a normalised entry name. Default 4096 (PATH_MAX). */
  maxPathBytes?: number;
}

export interface UnpackOptions extends UnpackLimits {
  /** lchown to the header's uid/gid. Default: when running as root (otherwise EPERM). */
  chown?: boolean;
  /**
   * `keep` (rootfs tarballs): `.wh.*` are ordinary files. `overlay` (OCI layers, issue 8):
   * `.wh.NAME` becomes a char device 0/0 named NAME and `.wh..wh..opq` sets
   * `trusted.overlay.opaque=y` on its directory, which is how overlayfs spells them.
   */
  whiteouts?: WhiteoutMode;
}

export interface UnpackStats {
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** Bytes of regular-file content written. */
  bytes: number;
  /** Character/block devices and fifos in the archive, not created. */
  skippedDevices: number;
  /** Entries of types we do not know (sockets, vendor extensions), not created. */
  skippedOther: number;
  whiteouts: number;
  opaqueDirs: number;
  /** pax xattr records seen and not applied (see the module comment). */
  ignoredXattrs: number;
}

export const DEFAULT_LIMITS = {
  maxBytes: 8 * 1024 ** 3,
  maxEntries: 1_000_000,
  maxPathBytes: DEFAULT_MAX_PATH_BYTES,
} as const;

interface DirMeta {
  parts: string[];
  mode: number;
  uid: number;
  gid: number;
  mtime?: Date;
}

/** tar-stream's header; `type` may be null for unknown typeflags, `pax` holds the raw records. */
type Header = Omit<tarStream.Header, 'type' | 'pax'> & {
  type: tarStream.Header['type'] | null;
  pax?: Record<string, string> | null;
};
type EntryStream = AsyncIterable<Buffer>;

/**
 * Unpacks the (already decompressed) tar stream `input` into `root`, an existing empty
 * directory that nothing else writes while this runs. On error the caller removes `root`.
 */
export async function unpackTar(input: Readable, root: string, options: UnpackOptions = {}): Promise<UnpackStats> {
  const u = new Unpacker(root, options);
  await u.run(input);
  return u.stats;
}

class Unpacker {
  readonly stats: UnpackStats = {
    entries: 0,
    files: 0,
    directories: 0,
    symlinks: 0,
    hardlinks: 0,
    bytes: 0,
    skippedDevices: 0,
    skippedOther: 0,
    whiteouts: 0,
    opaqueDirs: 0,
    ignoredXattrs: 0,
  };
  private readonly tree: ConfinedTree;
  private readonly limits: Required<UnpackLimits>;
  private readonly chown: boolean;
  private readonly whiteouts: WhiteoutMode;
  /**
   * Directory metadata is applied at the end, deepest first: creating children would bump a
   * directory's mtime, and a read-only mode would stop a non-root unpacker from filling it.
   */
  private readonly dirMeta = new Map<string, DirMeta>();

  constructor(root: string, o: UnpackOptions) {
    this.tree = new ConfinedTree(root);
    this.limits = {
      maxBytes: o.maxBytes ?? DEFAULT_LIMITS.maxBytes,
      maxEntries: o.maxEntries ?? DEFAULT_LIMITS.maxEntries,
      maxPathBytes: o.maxPathBytes ?? DEFAULT_LIMITS.maxPathBytes,
    };
    this.chown = o.chown ?? process.getuid?.() === 0;
    this.whiteouts = o.whiteouts ?? 'keep';
    // The root becomes the container's `/`: 0755 root-owned unless a `./` entry says otherwise.
    this.dirMeta.set(root, { parts: [], mode: 0o755, uid: 0, gid: 0 });
  }

  async run(input: Readable): Promise<void> {
    const extract = tarStream.extract();
    const tail = new TailTracker();
    let entryError: unknown;
    let streamError: unknown;

    const finished = new Promise<void>((resolve, reject) => {
      extract.on('finish', () => resolve());
      extract.on('error', (err: unknown) => reject(err));
      extract.on('close', () => reject(new Error('tar extraction closed early')));
    });
    extract.on('entry', (header, stream, next) => {
      // A truncated archive errors the entry stream too; the error reaches us through the
      // extractor ('error' below) and the entry's iterator, so don't let it go unhandled here.
      stream.on('error', () => {});
      this.entry(header as Header, stream as unknown as EntryStream).then(
        () => next(),
        (err: unknown) => {
          entryError ??= err;
          next(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    // Node streams up to the tail tracker; tar-stream is a streamx stream, joined with pipe().
    const source = pipeline(input, tail, (err) => {
      if (err) {
        streamError ??= err;
        extract.destroy(err);
      }
    });
    source.pipe(extract);

    try {
      await finished;
    } catch (err) {
      input.destroy();
      if (entryError !== undefined) throw entryError;
      throw invalidArchive(streamError ?? err);
    }
    if (!tail.endsWithMarker()) {
      throw new UserError('tarball is truncated: it ends without the tar end-of-archive marker', {
        code: 'image.invalid',
      });
    }
    await this.applyDirMeta();
  }

  private async entry(h: Header, stream: EntryStream): Promise<void> {
    const s = this.stats;
    if (++s.entries > this.limits.maxEntries) {
      throw new UserError(`tarball has more than ${this.limits.maxEntries} entries`, { code: 'image.too-large' });
    }
    if (h.pax) for (const k of Object.keys(h.pax)) if (/^(SCHILY|LIBARCHIVE)\.xattr\./.test(k)) s.ignoredXattrs++;
    const parts = confineName(h.name, this.limits.maxPathBytes);

    if (this.whiteouts === 'overlay' && parts.length > 0) {
      const wk = whiteoutKind(parts[parts.length - 1]!);
      if (wk !== null) {
        await drain(stream);
        return this.whiteout(parts, wk);
      }
    }

    switch (h.type) {
      case 'file':
      case 'contiguous-file':
      case null:
      case undefined:
        return this.file(h, parts, stream);
      case 'directory':
        await drain(stream);
        return this.directory(h, parts);
      case 'symlink':
        await drain(stream);
        return this.symlink(h, parts);
      case 'link':
        await drain(stream);
        return this.hardlink(h, parts);
      case 'character-device':
      case 'block-device':
      case 'fifo':
        await drain(stream);
        s.skippedDevices++;
        return;
      default:
        await drain(stream);
        s.skippedOther++;
        return;
    }
  }

  private async prepare(parts: string[], isDir: boolean): Promise<boolean> {
    if (parts.length === 0 && !isDir) throw hostile('"." is not a directory');
    await this.recordImplicit(await this.tree.ensureParents(parts, true));
    const p = this.tree.abs(parts);
    const kept = await this.tree.clearFinal(parts, isDir);
    if (!kept) this.forgetDirMeta(p);
    return kept;
  }

  private async file(h: Header, parts: string[], stream: EntryStream): Promise<void> {
    const size = h.size ?? 0;
    if (this.stats.bytes + size > this.limits.maxBytes) {
      throw new UserError(`tarball content exceeds the limit of ${this.limits.maxBytes} bytes`, { code: 'image.too-large' });
    }
    await this.prepare(parts, false);
    const p = this.tree.abs(parts);
    const fh = await fsp.open(p, CREATE_FILE_FLAGS, 0o600);
    try {
      let written = 0;
      for await (const chunk of stream) {
        written += chunk.length;
        if (written > size) throw new UserError(`tar entry ${h.name} is longer than its header says`, { code: 'image.invalid' });
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      if (written !== size) throw new UserError(`tar entry ${h.name} is truncated`, { code: 'image.invalid' });
      this.stats.bytes += written;
      // chown first: it clears setuid/setgid, which chmod then sets exactly.
      if (this.chown) await fh.chown(owner(h, 'uid'), owner(h, 'gid'));
      await fh.chmod((h.mode ?? 0o644) & 0o7777);
      await fh.utimes(mtime(h), mtime(h));
    } finally {
      await fh.close();
    }
    this.stats.files++;
  }

  private async directory(h: Header, parts: string[]): Promise<void> {
    const kept = await this.prepare(parts, true);
    const p = this.tree.abs(parts);
    if (!kept) await fsp.mkdir(p, 0o700);
    this.tree.markDir(p);
    this.dirMeta.set(p, { parts, mode: (h.mode ?? 0o755) & 0o7777, uid: owner(h, 'uid'), gid: owner(h, 'gid'), mtime: mtime(h) });
    this.stats.directories++;
  }

  private async symlink(h: Header, parts: string[]): Promise<void> {
    const target = h.linkname ?? '';
    if (target === '' || target.includes('\0')) throw hostile(`${h.name}: empty or invalid symlink target`);
    if (Buffer.byteLength(target) > this.limits.maxPathBytes)
      throw hostile(`${h.name}: symlink target longer than ${this.limits.maxPathBytes} bytes`);
    await this.prepare(parts, false);
    const p = this.tree.abs(parts);
    await fsp.symlink(target, p);
    if (this.chown) await fsp.lchown(p, owner(h, 'uid'), owner(h, 'gid'));
    await fsp.lutimes(p, mtime(h), mtime(h));
    this.stats.symlinks++;
  }

  private async hardlink(h: Header, parts: string[]): Promise<void> {
    const targetParts = confineName(h.linkname ?? '', this.limits.maxPathBytes, 'hard link target');
    if (targetParts.join('/') === parts.join('/')) throw hostile(`${h.name}: hard link to itself`);
    const st = await this.tree.lstatConfined(targetParts);
    if (st === null || !st.isFile()) {
      throw hostile(`${h.name}: hard link target ${JSON.stringify(h.linkname)} is not a regular file already in the archive`);
    }
    await this.prepare(parts, false);
    // link(2) without AT_SYMLINK_FOLLOW never follows; the target was checked to be a file.
    await fsp.link(this.tree.abs(targetParts), this.tree.abs(parts));
    this.stats.hardlinks++;
  }

  private async whiteout(parts: string[], wk: WhiteoutKind): Promise<void> {
    const dir = parts.slice(0, -1);
    if (wk.kind === 'meta') {
      this.stats.skippedOther++;
      return;
    }
    // The whiteout's directory must exist in this layer for overlayfs to see the marker.
    await this.recordImplicit(await this.tree.ensureParents(parts, true));
    if (wk.kind === 'opaque') {
      await lsetxattr(this.tree.abs(dir), OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      this.stats.opaqueDirs++;
      return;
    }
    const target = [...dir, wk.name];
    await this.prepare(target, false);
    const p = this.tree.abs(target);
    await mknodWhiteout(p);
    if (this.chown) await fsp.lchown(p, 0, 0);
    this.stats.whiteouts++;
  }

  private async recordImplicit(created: string[]): Promise<void> {
    for (const p of created) {
      this.dirMeta.set(p, { parts: [], mode: 0o755, uid: 0, gid: 0 });
    }
  }

  private forgetDirMeta(p: string): void {
    const prefix = p + '/';
    for (const k of this.dirMeta.keys()) if (k === p || k.startsWith(prefix)) this.dirMeta.delete(k);
  }

  private async applyDirMeta(): Promise<void> {
    const root = this.tree.root;
    const todo = [...this.dirMeta.entries()].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [p, m] of todo) {
      const parts = p === root ? [] : p.slice(root.length + 1).split('/');
      const st = await this.tree.lstatConfined(parts);
      if (st === null || !st.isDirectory()) continue;
      const fh = await fsp.open(p, OPEN_DIR_FLAGS);
      try {
        if (this.chown) await fh.chown(m.uid, m.gid);
        await fh.chmod(m.mode);
        if (m.mtime) await fh.utimes(m.mtime, m.mtime);
      } finally {
        await fh.close();
      }
    }
  }
}

function depth(p: string): number {
  let n = 0;
  for (const ch of p) if (ch === '/') n++;
  return n;
}

/** Numeric owner; pax records carry ids too large for the ustar field. */
function owner(h: Header, k: 'uid' | 'gid'): number {
  const pax = h.pax?.[k];
  const v = pax !== undefined ? Number.parseInt(pax, 10) : h[k];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32 - 1 ? v : 0;
}

function mtime(h: Header): Date {
  const pax = h.pax?.mtime;
  if (pax !== undefined) {
    const secs = Number.parseFloat(pax);
    if (Number.isFinite(secs)) return new Date(secs * 1000);
  }
  return h.mtime instanceof Date && !Number.isNaN(h.mtime.getTime()) ? h.mtime : new Date(0);
}

async function drain(stream: EntryStream): Promise<void> {
  for await (const _ of stream) {
    // discard
  }
}

function invalidArchive(err: unknown): Error {
  if (err instanceof UserError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new UserError(`not a valid tar archive: ${msg}`, { code: 'image.invalid', cause: err });
}

/**
 * Passes the tar stream through and remembers its last 1024 bytes: a complete archive ends
 * with at least two zero blocks (the end-of-archive marker, then record padding).
 */
class TailTracker extends Transform {
  private tail = Buffer.alloc(0);
  private total = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.total += chunk.length;
    this.tail = chunk.length >= 1024 ? Buffer.from(chunk.subarray(chunk.length - 1024)) : Buffer.concat([this.tail, chunk]).subarray(-1024);
    cb(null, chunk);
  }
  endsWithMarker(): boolean {
    return this.total >= 1024 && this.tail.length === 1024 && this.tail.every((b) => b === 0);
  }
}
