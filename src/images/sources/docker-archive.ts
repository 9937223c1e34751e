/**
 * `docker-archive:FILE[:NAME:TAG]`: what `docker save`, `podman save` and
 * `skopeo copy ... docker-archive:` write: a top-level manifest.json listing, per image, its
 * config file, its repo tags and its layer tarballs (bottom first; usually uncompressed, the
 * same file reached through symlinks when images share a layer). Layers are verified against
 * the config's diff ids while they are unpacked, the config is named by its own sha256.
 */
import { UserError } from '../../errors.js';
import { storeImage, type PullProgress } from '../import.js';
import { sniffFile } from '../sniff.js';
import { MAX_LAYERS, MAX_CONFIG_BYTES } from '../oci/spec.js';
import { parseReference } from '../registry/reference.js';
import type { StoreDirs } from '../../paths.js';
import type { ImageRecord } from '../store/records.js';
import { readSmallFile, resolveConfined } from './local-files.js';

interface SaveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseSaveManifest(bytes: Buffer, what: string): SaveEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new UserError(`${what}: manifest.json is not valid JSON (${(err as Error).message})`, { code: 'image.invalid' });
  }
  if (!Array.isArray(doc) || doc.length === 0)
    throw new UserError(`${what}: manifest.json is not a non-empty list`, { code: 'image.invalid' });
  return doc.map((e: unknown, i) => {
    const o = e as Record<string, unknown>;
    const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
    if (
      typeof o !== 'object' ||
      o === null ||
      typeof o.Config !== 'string' ||
      !isStrings(o.Layers) ||
      (o.RepoTags != null && !isStrings(o.RepoTags))
    ) {
      throw new UserError(`${what}: manifest.json[${i}] lacks Config/Layers or has fields of the wrong type`, { code: 'image.invalid' });
    }
    if (o.Layers.length > MAX_LAYERS)
      throw new UserError(`${what}: ${o.Layers.length} layers; at most ${MAX_LAYERS} are supported`, { code: 'image.too-large' });
    return { Config: o.Config, RepoTags: (o.RepoTags as string[] | null) ?? [], Layers: o.Layers };
  });
}

/** Normalises `busybox:latest` to `docker.io/library/busybox:latest`; ignores unparsable tags. */
function normaliseTags(tags: string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    try {
      out.push(parseReference(t).name);
    } catch {
      // a tag we cannot parse is not a name we can give the image
    }
  }
  return out;
}

export async function importDockerTree(
  dirs: StoreDirs,
  tree: string,
  selector: string | undefined,
  source: string,
  progress?: PullProgress,
): Promise<ImageRecord> {
  const entries = parseSaveManifest(
    await readSmallFile(`${tree}/manifest.json`, 4 * 1024 * 1024, `${source}: manifest.json`, true),
    source,
  );
  let entry: SaveEntry;
  if (selector !== undefined) {
    const want = normaliseTags([selector])[0] ?? selector;
    const found = entries.find((e) => normaliseTags(e.RepoTags).includes(want));
    if (!found)
      throw new UserError(`${source}: no image tagged ${selector} (tags: ${entries.flatMap((e) => e.RepoTags).join(', ') || 'none'})`, {
        code: 'image.not-found',
      });
    entry = found;
  } else if (entries.length === 1) {
    entry = entries[0]!;
  } else {
    throw new UserError(`${source}: the archive holds ${entries.length} images; name one with docker-archive:FILE:NAME:TAG`, {
      code: 'image.invalid',
    });
  }
  const configFile = await resolveConfined(tree, entry.Config, `${source}: config`);
  const configBytes = await readSmallFile(configFile, MAX_CONFIG_BYTES, `${source}: config`, true);
  const layers = await Promise.all(
    entry.Layers.map(async (name, i) => {
      const file = await resolveConfined(tree, name, `${source}: layer ${i + 1}`);
      const s = await sniffFile(file);
      return {
        compression: s.compression === 'gzip' ? ('gzip' as const) : s.compression === 'zstd' ? ('zstd' as const) : ('none' as const),
        file: async () => file,
      };
    }),
  );
  return storeImage(dirs, { source, configBytes, layers, names: normaliseTags(entry.RepoTags) }, progress);
}
