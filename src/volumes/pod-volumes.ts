/**
 * The named volumes a pod uses, made ready when it starts: a claim's volume is created on
 * first use (as `podman kube play` does, and as a cluster's provisioner would), an ephemeral
 * volume is made fresh for the pod. Claim objects among the inputs (PersistentVolumeClaim
 * documents, a StatefulSet's volumeClaimTemplates) are created before their pods.
 */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import { ephemeralVolumeName, type ClaimObject } from '../manifest/claims.js';
import type { PodSpec, Volume } from '../manifest/types.js';
import { type MinipodPaths, volumeDataDir, volumeDir } from '../paths.js';
import { createVolumeUnlocked, newVolumeRecord, readVolume, type VolumeOrigin, withVolumesLock } from './store.js';

/**
 * Host paths of the pod's claim and ephemeral volumes, by volume name. Runs after the pod's
 * spec.json is written, so from here on `volume rm` sees these volumes in use.
 */
export async function preparePodNamedVolumes(paths: MinipodPaths, pod: PodSpec): Promise<Record<string, string>> {
  const named = pod.volumes
    .map((volume, index) => ({ volume, index }))
    .filter(({ volume }) => volume.source.kind === 'persistentVolumeClaim' || volume.source.kind === 'ephemeral');
  if (named.length === 0) return {};
  return withVolumesLock(paths, async () => {
    const out: Record<string, string> = {};
    for (const { volume, index } of named) out[volume.name] = ensurePodVolume(paths, pod.name, volume, `spec.volumes[${index}]`);
    return out;
  });
}

function ensurePodVolume(paths: MinipodPaths, pod: string, volume: Volume, field: string): string {
  const source = volume.source;
  if (source.kind === 'persistentVolumeClaim') {
    if (!readVolume(paths, source.claimName)) {
      if (fs.existsSync(volumeDir(paths, source.claimName))) {
        throw new UserError(
          `${field}.persistentVolumeClaim.claimName: ${volumeDir(paths, source.claimName)} exists but is not a minipod volume`,
          { code: 'volume.invalid' },
        );
      }
      createVolumeUnlocked(paths, newVolumeRecord(source.claimName, 'pod'));
    }
    return volumeDataDir(paths, source.claimName);
  }
  if (source.kind !== 'ephemeral') throw new Error(`not a named volume: ${volume.name}`);
  const name = ephemeralVolumeName(pod, volume.name);
  const existing = readVolume(paths, name);
  if (existing && existing.ephemeralFor !== pod) {
    // Kubernetes refuses to use a claim of that name it did not create for the pod.
    throw new UserError(`${field}.ephemeral: volume "${name}" exists and was not made for this pod`, { code: 'volume.exists' });
  }
  if (!existing && fs.existsSync(volumeDir(paths, name))) {
    throw new UserError(`${field}.ephemeral: ${volumeDir(paths, name)} exists but is not a minipod volume`, { code: 'volume.invalid' });
  }
  // A leftover of this pod's earlier life (a crash before its teardown) is not reused: fresh.
  if (existing) fs.rmSync(volumeDir(paths, name), { recursive: true, force: true });
  createVolumeUnlocked(paths, newVolumeRecord(name, 'ephemeral', { claim: source.claim, labels: source.claim.labels, ephemeralFor: pod }));
  return volumeDataDir(paths, name);
}

/**
 * Claims among the inputs: each is created unless a volume of that name exists, which is then
 * used as it is (its data is what a claim is for). Returns the names it created.
 */
export async function ensureClaimVolumes(
  paths: MinipodPaths,
  claims: readonly (ClaimObject & { origin: VolumeOrigin; deleteWith?: string })[],
): Promise<string[]> {
  if (claims.length === 0) return [];
  return withVolumesLock(paths, async () => {
    const created: string[] = [];
    for (const c of claims) {
      if (readVolume(paths, c.name)) continue;
      if (fs.existsSync(volumeDir(paths, c.name))) {
        throw new UserError(`PersistentVolumeClaim "${c.name}": ${volumeDir(paths, c.name)} exists but is not a minipod volume`, {
          code: 'volume.invalid',
        });
      }
      const extra = c.deleteWith ? { deleteWith: c.deleteWith } : {};
      createVolumeUnlocked(paths, newVolumeRecord(c.name, c.origin, { claim: c.claim, labels: c.claim.labels, ...extra }));
      created.push(c.name);
    }
    return created;
  });
}
