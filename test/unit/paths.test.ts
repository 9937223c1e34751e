/**
 * The docs' "On the host" table (docs/architecture.md) and the image store's layout
 * (docs/images.md) against src/paths.ts, both ways: a documented path the module does not build
 * is a stale doc, and a path the module builds that the docs do not name is an undocumented one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as layout from '../../src/paths.js';

const ROOT = path.join(__dirname, '..', '..');
const paths = layout.minipodPaths({});

// Names the module is called with, written back as the docs' placeholders.
const PLACEHOLDERS: [string, string][] = [
  ['xPODIDx', '<pod id>'],
  ['xPODx', '<pod>'],
  ['xCx', '<c>'],
  ['xVx', '<v>'],
  ['xNAMEx', '<name>'],
];
const placeholders = (p: string): string => PLACEHOLDERS.reduce((s, [from, to]) => s.split(from).join(to), p);

/** Every host path the module builds, by the export that builds it (stores' entries apart). */
function builtByModule(): Map<string, string[]> {
  const pod = layout.podLayout(paths, 'xPODx');
  const c = layout.containerLayout(pod, 'xCx');
  const built: Record<string, string[]> = {
    daemonFiles: Object.values(layout.daemonFiles(paths)),
    podsRunDir: [layout.podsRunDir(paths)],
    podRunDir: [layout.podRunDir(paths, 'xPODx')],
    podStateFile: [layout.podStateFile(paths, 'xPODx')],
    podSpecFile: [layout.podSpecFile(paths, 'xPODx')],
    podLockFile: [layout.podLockFile(paths, 'xPODx')],
    networkFiles: Object.values(layout.networkFiles(paths)),
    podNetworkStateFile: [layout.podNetworkStateFile(paths, 'xPODIDx')],
    usernsFiles: Object.values(layout.usernsFiles(paths)),
    podOciRoot: [layout.podOciRoot(paths)],
    attachSocketDir: [layout.attachSocketDir(paths)],
    heldPoolDir: [layout.heldPoolDir(paths)],
    heldPoolLogDir: [layout.heldPoolLogDir(paths)],
    podsLibDir: [layout.podsLibDir(paths)],
    podLibDir: [layout.podLibDir(paths, 'xPODx')],
    imageCacheDir: [layout.imageCacheDir(paths)],
    storeDirs: [layout.storeDirs(paths).root], // its folders: against docs/images.md below
    volumesRoot: [layout.volumesRoot(paths)],
    volumeDir: [layout.volumeDir(paths, 'xNAMEx')],
    volumeFiles: Object.values(layout.volumeFiles(layout.volumeDir(paths, 'xNAMEx'))),
    volumeDataDir: [layout.volumeDataDir(paths, 'xNAMEx')],
    volumeRecordFile: [layout.volumeRecordFile(paths, 'xNAMEx')],
    volumesLockFile: [layout.volumesLockFile(paths)],
    ipamDataDir: [layout.ipamDataDir(paths)],
    seccompProfileDir: [layout.seccompProfileDir(paths)],
    podLogDir: [layout.podLogDir(paths, 'xPODx')],
    cniConflistPath: [layout.cniConflistPath(paths)],
    registriesConfPath: [layout.registriesConfPath({})],
    ociRuntimeRoot: [layout.ociRuntimeRoot()],
    podLayout: Object.values(pod),
    podVolumeDir: [layout.podVolumeDir(pod.volumesDir, 'xVx')],
    containerLayout: Object.values(c),
    idmappedLayersDir: [layout.idmappedLayersDir(c.mountPoint)],
    heldBundleDir: [layout.heldBundleDir(pod.runDir, 'xCx')],
    heldExitDir: [layout.heldExitDir(pod.runDir)],
  };
  return new Map(Object.entries(built).map(([k, v]) => [k, v.map(placeholders)]));
}

/** `a/{b,c}/d` -> `a/b/d`, `a/c/d` (one level, as the table writes it). */
function expandBraces(p: string): string[] {
  const m = /^(.*?)\{([^}]*)\}(.*)$/.exec(p);
  if (!m) return [p];
  return m[2]!.split(',').flatMap((alt) => expandBraces(`${m[1]}${alt}${m[3]}`));
}

const stripSlash = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);

/** The paths the architecture table names, with the row each came from. */
function documented(): { path: string; row: string }[] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## On the host'), doc.indexOf('## Code layout'));
  const out: { path: string; row: string }[] = [];
  for (const line of section.split('\n')) {
    const cells = /^\| `([^`]+)` \| (.*) \|$/.exec(line);
    if (!cells) continue;
    const [, first, what] = cells as unknown as [string, string, string];
    if (first.startsWith(paths.cgroupRoot)) continue; // the cgroup managers' (checked below)
    for (const p of expandBraces(first)) out.push({ path: stripSlash(p), row: first });
    if (!first.endsWith('/')) continue; // a file's row says what it is, in words
    const outsideParentheses = what.replace(/\([^()]*(\([^()]*\)[^()]*)*\)/g, '');
    for (const m of outsideParentheses.matchAll(/`([^`]+)`/g)) {
      for (const p of expandBraces(m[1]!)) out.push({ path: stripSlash(path.join(first, p)), row: first });
    }
  }
  return out;
}

describe('the host layout (src/paths.ts) and the docs', () => {
  it('covers every export of the module in this test', () => {
    const functions = Object.entries(layout)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k)
      .filter((k) => !['minipodPaths', 'blobPath', 'refPath', 'recordPath'].includes(k));
    const unchecked = functions.filter((k) => !builtByModule().has(k));
    // A new path: add it to builtByModule above and to the table in docs/architecture.md.
    expect(unchecked).toEqual([]);
  });

  it('builds every path the table in docs/architecture.md names (a folder: or paths in it)', () => {
    const built = [...builtByModule().values()].flat();
    const stale = documented().filter((d) => !built.some((b) => b === d.path || b.startsWith(`${d.path}/`)));
    expect(stale).toEqual([]);
  });

  it('has every path it builds in the table (a folder: named, or a parent of one named)', () => {
    const docs = documented().map((d) => d.path);
    const undocumented = [...builtByModule().entries()].flatMap(([fn, ps]) =>
      ps.filter((p) => !docs.some((d) => d === p || d.startsWith(`${p}/`))).map((p) => `${fn}: ${p}`),
    );
    expect(undocumented).toEqual([]);
  });

  it('names the cgroup root and parent the defaults are', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
    expect(doc).toContain(`| \`${paths.cgroupRoot}/…/${paths.cgroupParent}/<pod>/\` |`);
  });

  it("matches the image store's folders in docs/images.md, both ways", () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'images.md'), 'utf8');
    const block = /## The store[\s\S]*?```\nimages\/\n([\s\S]*?)```/.exec(doc)![1]!;
    const entries = block
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l))
      .map((l) => l.trim().split(/\s{2,}/)[0]!);
    const dirs = layout.storeDirs(paths);
    const folders = Object.entries(dirs)
      .filter(([k]) => k !== 'root')
      .map(([k, p]) => [k, path.relative(dirs.root, p)] as const);
    const under = (entry: string, rel: string): boolean => stripSlash(entry) === rel || entry.startsWith(`${rel}/`);
    expect(folders.filter(([, rel]) => !entries.some((e) => under(e, rel))).map(([k]) => k)).toEqual([]);
    expect(entries.filter((e) => !folders.some(([, rel]) => under(e, rel)))).toEqual([]);
    // The entries the module names itself.
    const rel = (p: string): string => path.relative(dirs.root, p);
    expect(entries).toContain(rel(layout.blobPath(dirs, '<hex>')));
    expect(entries).toContain(rel(layout.recordPath(dirs, '<config hex>')));
    expect(entries).toContain(rel(layout.refPath(dirs, 'docker.io/library/nginx:1.25')).replace(/[0-9a-f]{64}/, '<sha256 of name>'));
  });

  it('moves every root with its variable', () => {
    const moved = layout.minipodPaths({
      MINIPOD_RUN_DIR: '/r',
      MINIPOD_LIB_DIR: '/l',
      MINIPOD_LOG_DIR: '/g',
      MINIPOD_CNI_CONF_DIR: '/c',
      MINIPOD_CGROUP_ROOT: '/cg',
      MINIPOD_CGROUP_PARENT: 'p',
      MINIPOD_CNI_PATH: '/a:/b',
    });
    expect(moved).toEqual({
      runDir: '/r',
      libDir: '/l',
      logDir: '/g',
      cgroupRoot: '/cg',
      cgroupParent: 'p',
      cniConfDir: '/c',
      cniPluginDirs: ['/a', '/b'],
    });
    expect(layout.podLayout(moved, 'web').stateFile).toBe('/r/pods/web/state.json');
    expect(layout.registriesConfPath({ MINIPOD_REGISTRIES_CONF: '/x.json' })).toBe('/x.json');
  });
});
