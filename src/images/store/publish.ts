/**
 * Publishing an unpacked tree in the image store (`storeDirs(paths)`, docs/images.md): the
 * layers (`layers/sha256/<diffid>/`) and rootfs tarballs (`rootfs/sha256/<hex>/`), each entry a
 * `rootfs/` (the overlay lower dir) and `entry.json`, written last: its presence means complete.
 *
 * Publishing is "build in a temp dir beside the final one, then rename(2)": the rename is
 * atomic, so a reader sees either nothing or a complete entry, and a crash leaves only a
 * `.tmp-*` dir, swept once its pid is gone. Two processes unpacking the same content race
 * harmlessly: the loser's rename fails with ENOTEMPTY/EEXIST and it uses the winner's entry.
 * Within one process concurrent requests for the same key share one unpack.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pidExists } from '../../state/pod-state.js';

export const ENTRY_META = 'entry.json';
export const ENTRY_ROOTFS = 'rootfs';
const TMP_PREFIX = '.tmp-';

const inflight = new Map<string, Promise<unknown>>();
const swept = new Set<string>();

/**
 * Returns the published entry `dir/key` (its metadata), building it with `build(tmpRootfs)`
 * first if absent. `build` fills the given empty rootfs dir and returns metadata to record.
 */
export async function publishOnce<M>(dir: string, key: string, build: (rootfs: string) => Promise<M>): Promise<M> {
  const finalDir = path.join(dir, key);
  const existing = await readMeta<M>(finalDir);
  if (existing !== null) return existing;
  const running = inflight.get(finalDir) as Promise<M> | undefined;
  if (running) return running;
  const p = buildAndPublish(dir, key, build).finally(() => inflight.delete(finalDir));
  inflight.set(finalDir, p);
  return p;
}

async function buildAndPublish<M>(dir: string, key: string, build: (rootfs: string) => Promise<M>): Promise<M> {
  const finalDir = path.join(dir, key);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await sweepStale(dir);
  // An entry without its metadata was not made by publishOnce (rename is all or nothing):
  // someone copied or edited the store. Nothing can be using it as a lower dir; rebuild.
  if ((await readMeta<M>(finalDir)) === null && (await exists(finalDir))) {
    await fsp.rm(finalDir, { recursive: true, force: true });
  }
  const tmp = path.join(dir, `${TMP_PREFIX}${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fsp.mkdir(tmp, { mode: 0o700 });
  try {
    const rootfs = path.join(tmp, ENTRY_ROOTFS);
    await fsp.mkdir(rootfs, { mode: 0o700 });
    const meta = await build(rootfs);
    await fsp.writeFile(path.join(tmp, ENTRY_META), JSON.stringify(meta, null, 2) + '\n', { mode: 0o644 });
    try {
      await fsp.rename(tmp, finalDir);
      return meta;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      const winner = await readMeta<M>(finalDir);
      if (winner === null) throw err;
      return winner; // another process published the same content first
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

async function readMeta<M>(entryDir: string): Promise<M | null> {
  try {
    return JSON.parse(await fsp.readFile(path.join(entryDir, ENTRY_META), 'utf8')) as M;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}

/** Removes `.tmp-*` dirs whose unpacking process is gone (crash, SIGKILL). Once per dir. */
async function sweepStale(dir: string): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  for (const name of await fsp.readdir(dir)) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const pid = Number(name.split('-').at(-2));
    if (!Number.isInteger(pid) || pid === process.pid || pidExists(pid)) continue;
    await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  }
}
