import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { minipodPaths, volumeDataDir, type MinipodPaths } from '../../../src/paths.js';
import type { PodSpec, Volume } from '../../../src/manifest/types.js';
import {
  createVolume,
  listVolumes,
  namedVolumesOf,
  newVolumeRecord,
  pruneVolumes,
  readVolume,
  removeEphemeralVolumes,
  removeVolumesOfOwner,
  removeVolume,
  volumeNameProblem,
  volumesInUse,
} from '../../../src/volumes/store.js';
import { ensureClaimVolumes, preparePodNamedVolumes } from '../../../src/volumes/pod-volumes.js';
import { UserError } from '../../../src/errors.js';

const claim = { accessModes: ['ReadWriteOnce'], storageBytes: 1024, labels: {}, annotations: {} };

function podWith(name: string, volumes: Volume[]): PodSpec {
  return { name, volumes } as unknown as PodSpec;
}

describe('the named volume store', () => {
  let dir: string;
  let paths: MinipodPaths;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-volumes-'));
    paths = minipodPaths({ MINIPOD_RUN_DIR: path.join(dir, 'run'), MINIPOD_LIB_DIR: path.join(dir, 'lib') });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A pod's record as the supervisor writes it first: its spec. */
  function recordPod(spec: PodSpec): void {
    fs.mkdirSync(path.join(paths.runDir, 'pods', spec.name), { recursive: true });
    fs.writeFileSync(path.join(paths.runDir, 'pods', spec.name, 'spec.json'), JSON.stringify(spec));
  }

  it('creates a volume once, with a data folder any uid can write', async () => {
    expect(await createVolume(paths, newVolumeRecord('a', 'cli', { labels: { x: 'y' } }))).toBe(true);
    expect(fs.statSync(volumeDataDir(paths, 'a')).mode & 0o777).toBe(0o777);
    expect(readVolume(paths, 'a')).toMatchObject({ name: 'a', origin: 'cli', labels: { x: 'y' } });
    await expect(createVolume(paths, newVolumeRecord('a', 'cli'))).rejects.toThrow(
      'volume with name a already exists: volume already exists',
    );
    expect(await createVolume(paths, newVolumeRecord('a', 'cli'), true)).toBe(false);
    await expect(createVolume(paths, newVolumeRecord('../a', 'cli'))).rejects.toThrow(/volume name "..\/a" must consist of/);
    expect(listVolumes(paths).map((v) => v.name)).toEqual(['a']);
  });

  it('refuses to remove a volume a pod record names (exit 2), and a missing one (exit 1)', async () => {
    await createVolume(paths, newVolumeRecord('db', 'cli'));
    recordPod(podWith('web', [{ name: 'data', source: { kind: 'persistentVolumeClaim', claimName: 'db', readOnly: false } }]));
    expect(volumesInUse(paths).get('db')).toEqual(['web']);
    const err = await removeVolume(paths, 'db').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    expect((err as Error).message).toBe('volume db is being used by the following pod(s): web: volume is being used');
    fs.rmSync(path.join(paths.runDir, 'pods', 'web'), { recursive: true });
    await removeVolume(paths, 'db');
    expect(readVolume(paths, 'db')).toBeUndefined();
    const missing = await removeVolume(paths, 'db').catch((e: unknown) => e);
    expect((missing as UserError).exitCode).toBe(1);
  });

  it('prunes what no pod uses, and leftovers of crashed removals', async () => {
    for (const n of ['a', 'b', 'c']) await createVolume(paths, newVolumeRecord(n, 'cli'));
    fs.mkdirSync(path.join(paths.libDir, 'volumes', '.rm-dead'));
    recordPod(podWith('p', [{ name: 'v', source: { kind: 'persistentVolumeClaim', claimName: 'b', readOnly: false } }]));
    expect(await pruneVolumes(paths)).toEqual(['a', 'c']);
    expect(fs.readdirSync(path.join(paths.libDir, 'volumes')).sort()).toEqual(['.lock', 'b']);
  });

  it('makes a claim on first use and reuses it; an ephemeral volume fresh for its pod only', async () => {
    const eph: Volume = { name: 'scratch', source: { kind: 'ephemeral', claim } };
    const spec = podWith('web', [{ name: 'data', source: { kind: 'persistentVolumeClaim', claimName: 'db', readOnly: false } }, eph]);
    expect(namedVolumesOf(spec)).toEqual(['db', 'web-scratch']);
    const prepared = await preparePodNamedVolumes(paths, spec);
    expect(prepared).toEqual({ data: volumeDataDir(paths, 'db'), scratch: volumeDataDir(paths, 'web-scratch') });
    fs.writeFileSync(path.join(prepared.data!, 'f'), 'kept');
    fs.writeFileSync(path.join(prepared.scratch!, 'f'), 'old');
    // The pod again (after a crash): the claim keeps its data, the ephemeral volume is fresh.
    await preparePodNamedVolumes(paths, spec);
    expect(fs.readFileSync(path.join(prepared.data!, 'f'), 'utf8')).toBe('kept');
    expect(fs.existsSync(path.join(prepared.scratch!, 'f'))).toBe(false);
    expect(readVolume(paths, 'web-scratch')).toMatchObject({ origin: 'ephemeral', ephemeralFor: 'web', claim });
    // Another pod's volume of that name is never taken over.
    const clash = podWith('other', [{ name: 'x', source: { kind: 'ephemeral', claim } }]);
    await createVolume(paths, newVolumeRecord('other-x', 'cli'));
    await expect(preparePodNamedVolumes(paths, clash)).rejects.toThrow(
      'spec.volumes[0].ephemeral: volume "other-x" exists and was not made for this pod',
    );
    expect(await removeEphemeralVolumes(paths, 'web')).toEqual(['web-scratch']);
    expect(listVolumes(paths).map((v) => v.name)).toEqual(['db', 'other-x']);
  });

  it('creates claims among the inputs unless the volume exists', async () => {
    await createVolume(paths, newVolumeRecord('old', 'cli'));
    expect(
      await ensureClaimVolumes(paths, [
        { name: 'old', claim, origin: 'PersistentVolumeClaim' },
        { name: 'new', claim, origin: 'StatefulSet' },
      ]),
    ).toEqual(['new']);
    expect(readVolume(paths, 'new')).toMatchObject({ origin: 'StatefulSet', claim });
    expect(readVolume(paths, 'old')).toMatchObject({ origin: 'cli' });
  });

  it('removes the volumes that go with a workload object, unless a pod still uses one', async () => {
    await ensureClaimVolumes(paths, [
      { name: 'data-db-0', claim, origin: 'StatefulSet', deleteWith: 'StatefulSet/db' },
      { name: 'data-db-1', claim, origin: 'StatefulSet', deleteWith: 'StatefulSet/db' },
      { name: 'other', claim, origin: 'StatefulSet' },
    ]);
    recordPod(podWith('db-1', [{ name: 'data', source: { kind: 'persistentVolumeClaim', claimName: 'data-db-1', readOnly: false } }]));
    expect(await removeVolumesOfOwner(paths, 'StatefulSet/db')).toEqual(['data-db-0']);
    expect(listVolumes(paths).map((v) => v.name)).toEqual(['data-db-1', 'other']);
  });

  it('volume names follow podman', () => {
    expect(volumeNameProblem('my_vol.1-x')).toBeUndefined();
    expect(volumeNameProblem('.hidden')).toBeDefined();
    expect(volumeNameProblem('a/b')).toBeDefined();
  });
});
