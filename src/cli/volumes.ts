/**
 * `minipod volume create|ls|inspect|rm|prune`: the named volumes (src/volumes), with podman's
 * output shapes, words and exit codes (`volume rm`: 1 no such volume, 2 in use).
 */
import { createInterface } from 'node:readline/promises';
import { UserError } from '../errors.js';
import { minipodPaths, type MinipodPaths, volumeDataDir } from '../paths.js';
import { removePod } from '../pod/control.js';
import { withPodLock } from '../state/pod-state.js';
import {
  createVolume,
  listVolumes,
  newVolumeRecord,
  pruneVolumes,
  removeVolume,
  requireVolume,
  volumeNameProblem,
  volumesInUse,
  type VolumeRecord,
} from '../volumes/store.js';
import { hostRuntime, reportError, requireRoot } from './common.js';
import { renderTable } from './ps.js';

/** podman's inspect keys, plus what minipod knows: the claim and the pods using it. */
export function volumeView(paths: MinipodPaths, v: VolumeRecord, usedBy: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Name: v.name,
    Driver: 'local',
    Mountpoint: volumeDataDir(paths, v.name),
    CreatedAt: v.createdAt,
    Labels: v.labels,
    Scope: 'local',
    Options: {},
    MountCount: usedBy.length,
    UsedBy: usedBy,
    Origin: v.origin,
  };
  if (v.claim) {
    out.Claim = {
      storage: v.claim.storageBytes,
      accessModes: v.claim.accessModes,
      ...(v.claim.storageClassName !== undefined ? { storageClassName: v.claim.storageClassName } : {}),
      ...(Object.keys(v.claim.annotations).length ? { annotations: v.claim.annotations } : {}),
    };
  }
  if (v.ephemeralFor) out.EphemeralFor = v.ephemeralFor;
  return out;
}

function parseLabels(list: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (key === '') throw new UserError(`--label: ${JSON.stringify(l)} has no key`);
    Object.defineProperty(labels, key, { value: eq < 0 ? '' : l.slice(eq + 1), enumerable: true, writable: true, configurable: true });
  }
  return labels;
}

export interface VolumeCreateOptions {
  label: string[];
  ignore?: boolean;
  driver?: string;
  opt: string[];
}

export async function volumeCreateCommand(name: string | undefined, o: VolumeCreateOptions): Promise<number> {
  requireRoot();
  if (o.driver !== undefined && o.driver !== 'local')
    throw new UserError(`--driver: "${o.driver}" is not supported: minipod has the local driver only`);
  if (o.opt.length > 0) throw new UserError(`--opt: driver options are not supported by minipod (got ${JSON.stringify(o.opt[0])})`);
  // podman names an unnamed volume with 64 hex digits.
  const volumeName = name ?? (await import('node:crypto')).randomBytes(32).toString('hex');
  const p = volumeNameProblem(volumeName);
  if (p) throw new UserError(`volume name ${JSON.stringify(volumeName)} ${p}`, { code: 'volume.invalid' });
  await createVolume(minipodPaths(), newVolumeRecord(volumeName, 'cli', { labels: parseLabels(o.label) }), o.ignore ?? false);
  process.stdout.write(`${volumeName}\n`);
  return 0;
}

export function volumeLsCommand(o: { format?: string; quiet?: boolean }): number {
  requireRoot();
  if (o.format && o.format !== 'json' && o.format !== 'table') throw new UserError(`--format: "${o.format}" is not table or json`);
  const paths = minipodPaths();
  const volumes = listVolumes(paths);
  if (o.quiet) {
    for (const v of volumes) process.stdout.write(`${v.name}\n`);
    return 0;
  }
  if (o.format === 'json') {
    const used = volumesInUse(paths);
    process.stdout.write(
      JSON.stringify(
        volumes.map((v) => volumeView(paths, v, used.get(v.name) ?? [])),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  process.stdout.write(
    renderTable(
      ['DRIVER', 'VOLUME NAME'],
      volumes.map((v) => ['local', v.name]),
    ),
  );
  return 0;
}

export function volumeInspectCommand(names: string[], o: { all?: boolean; format?: string }): number {
  requireRoot();
  if (o.format && o.format !== 'json') throw new UserError(`--format: "${o.format}" is not json`);
  const paths = minipodPaths();
  if (!o.all && names.length === 0) throw new UserError('volume inspect: give a volume name, or --all');
  const volumes = o.all ? listVolumes(paths) : names.map((n) => requireVolume(paths, n));
  const used = volumesInUse(paths);
  process.stdout.write(
    JSON.stringify(
      volumes.map((v) => volumeView(paths, v, used.get(v.name) ?? [])),
      null,
      2,
    ) + '\n',
  );
  return 0;
}

/** Each name in turn, as podman does; the exit code is the worst one (2 in use, 1 missing). */
export async function volumeRmCommand(names: string[], o: { force?: boolean; all?: boolean }): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  const targets = o.all ? listVolumes(paths).map((v) => v.name) : names;
  if (targets.length === 0 && !o.all) throw new UserError('volume rm: give a volume name, or --all');
  let code = 0;
  for (const name of targets) {
    try {
      if (o.force) await removeUsers(paths, name);
      await removeVolume(paths, name);
      process.stdout.write(`${name}\n`);
    } catch (err) {
      code = Math.max(code, reportError(err));
    }
  }
  return code;
}

/** `volume rm -f`: podman removes the containers that use the volume first; here, the pods. */
async function removeUsers(paths: MinipodPaths, name: string): Promise<void> {
  const pods = volumesInUse(paths).get(name) ?? [];
  if (pods.length === 0) return;
  const c = { ...hostRuntime(), warn: (m: string) => process.stderr.write(`minipod: warning: ${m}\n`) };
  for (const pod of pods) await withPodLock(paths, pod, () => removePod(c, pod, true));
}

export async function volumePruneCommand(o: { force?: boolean }): Promise<number> {
  requireRoot();
  const paths = minipodPaths();
  if (!o.force) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl
      .question('WARNING! This will remove all volumes not used by at least one pod.\nAre you sure you want to continue? [y/N] ')
      .catch(() => '');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) return 0;
  }
  for (const name of await pruneVolumes(paths)) process.stdout.write(`${name}\n`);
  return 0;
}
