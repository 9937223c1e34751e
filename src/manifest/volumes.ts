/**
 * `spec.volumes[]`: one source per volume, decoded with its field-local rules (claims,
 * ephemeral and image volumes in claims.ts). Host-side preparation is src/pod/volumes.ts.
 */
import type { HostPathType, Volume, VolumeSource } from './types.js';
import { quote, type Issues } from './issues.js';
import { Fields, unsupportedFields, type ObjectShape } from './reader.js';
import { quantity } from './container.js';
import { parseBytes } from './quantity.js';
import { decodeEphemeralSource, decodeImageSource, decodePvcSource, openPvcSource } from './claims.js';
import { dns1123LabelProblem, normaliseAbsolutePath } from './syntax.js';
import { decodeFileVolume, type FileVolumeContext } from './file-volumes.js';

const FILE_SOURCES = ['configMap', 'secret', 'downwardAPI', 'projected'] as const;
const VOLUME_SOURCES = ['hostPath', 'emptyDir', 'gitRepo', 'persistentVolumeClaim', 'ephemeral', 'image', ...FILE_SOURCES] as const;
const CLOUD_DISK = 'a cloud disk that a cloud provider attaches to a cluster node; on one host use a hostPath or a persistentVolumeClaim';
const NETWORK_FS = 'a network filesystem a cluster node mounts from its server; mount it on the host and use a hostPath';
const NETWORK_DISK = 'a network disk a cluster node attaches; attach it to the host and use a hostPath';
export const VOLUME_SHAPE: ObjectShape = {
  type: 'Volume',
  known: ['name', ...VOLUME_SOURCES],
  unsupportedWhy: {
    gcePersistentDisk: CLOUD_DISK,
    awsElasticBlockStore: CLOUD_DISK,
    azureDisk: CLOUD_DISK,
    azureFile: NETWORK_FS,
    cinder: CLOUD_DISK,
    vsphereVolume: CLOUD_DISK,
    photonPersistentDisk: CLOUD_DISK,
    portworxVolume: CLOUD_DISK,
    scaleIO: CLOUD_DISK,
    storageos: CLOUD_DISK,
    nfs: NETWORK_FS,
    iscsi: NETWORK_DISK,
    glusterfs: NETWORK_FS,
    rbd: NETWORK_DISK,
    cephfs: NETWORK_FS,
    quobyte: NETWORK_FS,
    flocker: NETWORK_FS,
    fc: NETWORK_DISK,
    flexVolume: 'a node driver that a cluster installs',
    csi: 'a CSI driver that a cluster runs; on one host use a hostPath or a persistentVolumeClaim',
  },
};
export const HOST_PATH_SHAPE: ObjectShape = { type: 'HostPathVolumeSource', known: ['path', 'type'] };
export const GIT_REPO_SHAPE: ObjectShape = { type: 'GitRepoVolumeSource', known: ['repository', 'revision', 'directory'] };
export const EMPTY_DIR_SHAPE: ObjectShape = { type: 'EmptyDirVolumeSource', known: ['medium', 'sizeLimit', 'mode'] };

const HOST_PATH_TYPES: readonly HostPathType[] = [
  '',
  'DirectoryOrCreate',
  'Directory',
  'FileOrCreate',
  'File',
  'Socket',
  'CharDevice',
  'BlockDevice',
];

export function decodeVolume(ctx: FileVolumeContext, value: unknown, path: string): Volume | undefined {
  const { issues } = ctx;
  const f = Fields.open(issues, path, value, VOLUME_SHAPE);
  if (!f) return undefined;
  const name = f.requiredString('name', 253);
  if (name !== undefined) {
    const p = dns1123LabelProblem(name);
    if (p) issues.add(f.at('name'), `${quote(name)} ${p}`);
  }
  const present = VOLUME_SOURCES.filter((k) => f.has(k));
  const unsupported = unsupportedFields(VOLUME_SHAPE).some((k) => f.has(k));
  if (present.length > 1) {
    issues.add(path, `must specify exactly one volume source (got ${present.join(' and ')})`);
    return undefined;
  }
  if (present.length === 0) {
    // An unsupported source (configMap, ...) has been reported already.
    if (unsupported) return undefined;
    const hint = f.obj.emptyDir === null ? ' (an empty emptyDir is written `emptyDir: {}`)' : '';
    issues.add(path, `must specify a volume source: ${VOLUME_SOURCES.join(', ')}${hint}`);
    return undefined;
  }
  let source: VolumeSource | undefined;
  const hp = f.object('hostPath', HOST_PATH_SHAPE);
  if (hp) {
    const raw = hp.requiredString('path', 4096);
    const type = hp.enumOf<HostPathType>('type', HOST_PATH_TYPES) ?? '';
    if (raw !== undefined && !raw.startsWith('/')) issues.add(hp.at('path'), `${quote(raw)} must be an absolute path`);
    else if (raw !== undefined) source = { kind: 'hostPath', path: normaliseAbsolutePath(raw), type };
  }
  const ed = f.object('emptyDir', EMPTY_DIR_SHAPE);
  if (ed) {
    const mediumRaw = ed.get('medium');
    const hugePages = typeof mediumRaw === 'string' && mediumRaw.startsWith('HugePages-') ? [mediumRaw] : [];
    const medium = ed.enumOf<'' | 'Memory'>('medium', ['', 'Memory'], ['HugePages', ...hugePages]);
    let sizeLimitBytes: number | undefined;
    const sl = ed.get('sizeLimit');
    if (sl !== undefined) {
      sizeLimitBytes = quantity(issues, ed.at('sizeLimit'), sl, parseBytes);
      // tmpfs reads size=0 as "no limit": the opposite of what was asked.
      if (sizeLimitBytes === 0) {
        issues.add(ed.at('sizeLimit'), `${quote(sl)} must be greater than 0`);
        sizeLimitBytes = undefined;
      }
    }
    // The EmptyDirVolumeMode field: the directory's permission bits, 0 to 01777 (sticky bit
    // included, setuid and setgid not), as the API server validates them.
    const mode = ed.integer('mode', { min: 0, max: 0o1777 });
    source = { kind: 'emptyDir', medium: medium ?? '' };
    if (sizeLimitBytes !== undefined) source.sizeLimitBytes = sizeLimitBytes;
    if (mode !== undefined) source.mode = mode;
  }
  const git = f.object('gitRepo', GIT_REPO_SHAPE);
  if (git) source = decodeGitRepo(issues, git);
  const pvc = openPvcSource(f);
  if (pvc) source = decodePvcSource(pvc);
  source ??= decodeImageSource(f) ?? decodeEphemeralSource(f);
  for (const key of FILE_SOURCES) {
    if (f.has(key)) source = decodeFileVolume(ctx, f, key);
  }
  if (name === undefined || source === undefined) return undefined;
  return { name, source };
}

/**
 * gitRepo, with the API server's rules: a repository is required; `directory` is a relative
 * path without `..`; none of the three may start with `-` (kubelet's own check: each is an
 * argument of git).
 */
function decodeGitRepo(issues: Issues, f: Fields): VolumeSource | undefined {
  const repository = f.requiredString('repository', 4096);
  const revision = f.string('revision', 4096);
  const directory = f.string('directory', 4096);
  let ok = repository !== undefined;
  for (const [key, value] of [
    ['repository', repository],
    ['revision', revision],
    ['directory', directory],
  ] as const) {
    if (value?.startsWith('-')) {
      issues.add(f.at(key), `${quote(value)} may not start with "-"`);
      ok = false;
    }
  }
  if (directory !== undefined && (directory.startsWith('/') || directory.split('/').includes('..'))) {
    issues.add(f.at('directory'), `${quote(directory)} must be a relative path without ".."`);
    ok = false;
  }
  if (!ok || repository === undefined) return undefined;
  return { kind: 'gitRepo', repository, ...(revision ? { revision } : {}), ...(directory ? { directory } : {}) };
}
