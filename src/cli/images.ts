/**
 * `minipod pull`, `images`, `rmi` and `image prune`: the image store's verbs (src/images).
 * `pull` accepts anything `image:` does (registry references, oci:, oci-archive:,
 * docker-archive:, tarballs), relative to the current directory, and always asks the registry.
 */
import { minipodPaths } from '../paths.js';
import { resolveImage, type PullProgress } from '../images/index.js';
import { listImages, pruneImages, removeImage } from '../images/store/gc.js';
import { storeDirs } from '../paths.js';
import { repositoryOf } from '../images/registry/reference.js';
import { requireRoot } from './common.js';
import { age, renderTable } from './ps.js';

/** podman's image sizes: decimal units, one decimal under 10 (`12 MB`, `3.4 kB`); `stats` has docker's HumanSize. */
function imageSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Live per-layer lines on a terminal (redrawn in place); one plain line per event otherwise. */
export function progressPrinter(out: NodeJS.WriteStream = process.stderr): PullProgress {
  if (!out.isTTY) {
    return {
      layer: (id, status, _done, total) => {
        if (status === 'downloading') return; // byte counts would flood a log
        out.write(`${id}: ${status === 'exists' ? 'already present' : status}${total ? ` (${imageSize(total)})` : ''}\n`);
      },
      message: (text) => void out.write(`${text}\n`),
    };
  }
  const order: string[] = [];
  const lines = new Map<string, string>();
  let drawn = 0;
  let last = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    if (drawn > 0) out.write(`\x1b[${drawn}A`);
    for (const id of order) out.write(`\x1b[2K${id}: ${lines.get(id)}\n`);
    drawn = order.length;
  };
  return {
    layer: (id, status, done, total) => {
      if (!lines.has(id)) order.push(id);
      const text =
        status === 'downloading' && total
          ? `downloading ${imageSize(done ?? 0)} / ${imageSize(total)} (${Math.floor(((done ?? 0) * 100) / total)}%)`
          : status === 'exists'
            ? 'already present'
            : status;
      lines.set(id, text);
      draw(status !== 'downloading');
    },
    message: (text) => {
      if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[J`);
      out.write(`${text}\n`);
      drawn = 0;
      draw(true);
    },
  };
}

export async function pullCommand(image: string): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  const r = await resolveImage(image, {
    manifestDir: process.cwd(),
    paths,
    fieldPath: 'pull',
    pullPolicy: 'Always',
    progress: progressPrinter(),
  });
  process.stdout.write(`${r.id}\n`);
  return 0;
}

export async function imagesCommand(o: { format?: string; quiet?: boolean }): Promise<number> {
  requireRoot();
  const rows = await listImages(storeDirs(minipodPaths()));
  rows.sort((a, b) => (b.record.importedAt ?? '').localeCompare(a.record.importedAt ?? ''));
  if (o.format === 'json') {
    process.stdout.write(
      JSON.stringify(
        rows.map((r) => ({ id: r.record.id, names: r.names, size: r.record.size, created: r.record.created, source: r.record.source })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  if (o.quiet) {
    for (const r of rows) process.stdout.write(`${r.record.id.slice(7, 19)}\n`);
    return 0;
  }
  const table: string[][] = [];
  for (const r of rows) {
    const created = r.record.created && !Number.isNaN(Date.parse(r.record.created)) ? `${age(r.record.created)} ago` : '';
    const size = imageSize(r.record.size);
    const id = r.record.id.slice(7, 19);
    if (r.names.length === 0) table.push(['<none>', '<none>', id, created, size]);
    for (const n of r.names) {
      const { repository, tag } = repositoryOf(n);
      table.push([repository, tag, id, created, size]);
    }
  }
  process.stdout.write(renderTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], table));
  return 0;
}

export async function rmiCommand(images: string[], o: { force?: boolean }): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  for (const image of images) {
    const r = await removeImage(paths, image, !!o.force);
    for (const n of r.untagged) process.stdout.write(`Untagged: ${n}\n`);
    for (const d of r.deleted) process.stdout.write(`Deleted: ${d}\n`);
  }
  return 0;
}

export async function pruneCommand(o: { all?: boolean }): Promise<number> {
  requireRoot();
  const r = await pruneImages(minipodPaths(), !!o.all);
  for (const id of r.images) process.stdout.write(`Deleted: ${id}\n`);
  process.stdout.write(
    `Removed ${r.images.length} images, ${r.layers} layers, ${r.blobs} blobs, ${r.rootfs} rootfs entries; freed ${imageSize(r.bytesFreed)}\n`,
  );
  return 0;
}
