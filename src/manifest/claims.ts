/**
 * Volumes that are more than a directory of the pod: a PersistentVolumeClaim (a named volume
 * that outlives the pod), an ephemeral volume (a claim made for one pod and removed with it)
 * and an image volume (an image's files, read-only). Decoded here, pure; src/volumes and
 * src/pod/volumes.ts act on them.
 *
 * There is no cluster, so a claim binds to no PersistentVolume: the claim *is* the volume, a
 * directory under <lib>/volumes/<name>, as `podman kube play` makes it. What the claim asks
 * for (size, access modes, class) is recorded with the volume and shown by `volume inspect`;
 * the size is not enforced (that would need a filesystem or project quota per volume).
 */
import type { ClaimSpec, ImagePullPolicy, VolumeSource } from './types.js';
import { childPath, Issues, quote } from './issues.js';
import { Fields, isObject, type ObjectShape } from './reader.js';
import { quantity } from './container.js';
import { parseBytes } from './quantity.js';
import { dns1123SubdomainProblem, labelValueProblem, qualifiedNameProblem } from './syntax.js';

export const CLAIM_ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;

export const PVC_SOURCE_SHAPE: ObjectShape = { type: 'PersistentVolumeClaimVolumeSource', known: ['claimName', 'readOnly'] };
export const IMAGE_SOURCE_SHAPE: ObjectShape = { type: 'ImageVolumeSource', known: ['reference', 'pullPolicy'] };
export const EPHEMERAL_SHAPE: ObjectShape = { type: 'EphemeralVolumeSource', known: ['volumeClaimTemplate'] };
export const CLAIM_TEMPLATE_SHAPE: ObjectShape = { type: 'PersistentVolumeClaimTemplate', known: ['metadata', 'spec'] };
/** The metadata of an ephemeral or StatefulSet claim template: its name, labels and annotations. */
export const TEMPLATE_METADATA_SHAPE: ObjectShape = { type: 'ObjectMeta', known: ['name', 'labels', 'annotations'] };
const NO_PERSISTENT_VOLUMES = 'there are no PersistentVolumes to choose from on one host: the claim is a named volume of its own';
export const CLAIM_SPEC_SHAPE: ObjectShape = {
  type: 'PersistentVolumeClaimSpec',
  known: ['accessModes', 'resources', 'storageClassName', 'volumeMode'],
  // dataSource, dataSourceRef (fill from a snapshot or another claim) and volumeAttributesClassName
  // are refused: nothing here can do what they ask.
  clusterOnly: { selector: NO_PERSISTENT_VOLUMES, volumeName: NO_PERSISTENT_VOLUMES },
};
const CLAIM_RESOURCES_SHAPE: ObjectShape = { type: 'VolumeResourceRequirements', known: ['requests', 'limits'] };
/** A ResourceList of a claim: Kubernetes knows only `storage` there. */
const STORAGE_ONLY_SHAPE: ObjectShape = { known: ['storage'] };

/** Named volumes are directories: a claim name must be a DNS-1123 subdomain, as in Kubernetes. */
export function claimNameProblem(name: string): string | undefined {
  return dns1123SubdomainProblem(name);
}

/** `volumes[].persistentVolumeClaim`. */
export function decodePvcSource(f: Fields): VolumeSource | undefined {
  const claimName = f.requiredString('claimName', 253);
  const readOnly = f.boolean('readOnly') ?? false;
  if (claimName === undefined) return undefined;
  const p = claimNameProblem(claimName);
  if (p) {
    f.issues.add(f.at('claimName'), `${quote(claimName)} ${p}`);
    return undefined;
  }
  return { kind: 'persistentVolumeClaim', claimName, readOnly };
}

export function openPvcSource(parent: Fields): Fields | undefined {
  return parent.object('persistentVolumeClaim', PVC_SOURCE_SHAPE);
}

/** `volumes[].image`: Kubernetes requires the reference for a pod. */
export function decodeImageSource(parent: Fields): VolumeSource | undefined {
  const f = parent.object('image', IMAGE_SOURCE_SHAPE);
  if (!f) return undefined;
  const reference = f.requiredString('reference', 4096);
  const pullPolicy = f.enumOf<ImagePullPolicy>('pullPolicy', ['Always', 'IfNotPresent', 'Never']);
  if (reference === undefined) return undefined;
  return pullPolicy === undefined ? { kind: 'image', reference } : { kind: 'image', reference, pullPolicy };
}

/** `volumes[].ephemeral.volumeClaimTemplate`. */
export function decodeEphemeralSource(parent: Fields): VolumeSource | undefined {
  const f = parent.object('ephemeral', EPHEMERAL_SHAPE);
  if (!f) return undefined;
  if (!f.has('volumeClaimTemplate')) {
    f.issues.add(f.at('volumeClaimTemplate'), 'field is required');
    return undefined;
  }
  const claim = decodeClaimTemplate(f.issues, f.at('volumeClaimTemplate'), f.get('volumeClaimTemplate'));
  return claim ? { kind: 'ephemeral', claim: claim.claim } : undefined;
}

/**
 * A claim template (ephemeral volumes, StatefulSet volumeClaimTemplates): metadata with labels
 * and annotations (and the template's name, which a StatefulSet needs), and a claim spec.
 */
export function decodeClaimTemplate(issues: Issues, path: string, value: unknown): { name?: string; claim: ClaimSpec } | undefined {
  const f = Fields.open(issues, path, value, CLAIM_TEMPLATE_SHAPE);
  if (!f) return undefined;
  const meta = f.object('metadata', TEMPLATE_METADATA_SHAPE);
  const name = meta?.optionalString('name', 253);
  if (name !== undefined) {
    const p = claimNameProblem(name);
    if (p) issues.add(meta!.at('name'), `${quote(name)} ${p}`);
  }
  const labels = meta ? labelsOf(meta) : {};
  const annotations = meta ? annotationsOf(meta) : {};
  const spec = f.object('spec', CLAIM_SPEC_SHAPE);
  if (!spec) {
    if (!f.has('spec')) issues.add(f.at('spec'), 'field is required');
    return undefined;
  }
  const claim = decodeClaimSpec(spec, labels, annotations);
  if (!claim) return undefined;
  return name === undefined ? { claim } : { name, claim };
}

export function labelsOf(meta: Fields): Record<string, string> {
  const labels = meta.stringMap('labels', 256) ?? {};
  for (const [k, v] of Object.entries(labels)) {
    const kp = qualifiedNameProblem(k);
    if (kp) meta.issues.add(childPath(meta.at('labels'), k), `key ${kp}`);
    const vp = labelValueProblem(v);
    if (vp) meta.issues.add(childPath(meta.at('labels'), k), `${quote(v)} ${vp}`);
  }
  return labels;
}

export function annotationsOf(meta: Fields): Record<string, string> {
  const annotations = meta.stringMap('annotations', 256) ?? {};
  for (const k of Object.keys(annotations)) {
    const kp = qualifiedNameProblem(k);
    if (kp) meta.issues.add(childPath(meta.at('annotations'), k), `key ${kp}`);
  }
  return annotations;
}

/**
 * A PersistentVolumeClaim's spec, with Kubernetes' own requirements: at least one access mode
 * and a storage request.
 */
export function decodeClaimSpec(f: Fields, labels: Record<string, string>, annotations: Record<string, string>): ClaimSpec | undefined {
  const issues = f.issues;
  const before = issues.list.length;
  const accessModes = f.stringArray('accessModes', 4, 32) ?? [];
  accessModes.forEach((m, i) => {
    if (!(CLAIM_ACCESS_MODES as readonly string[]).includes(m)) {
      issues.add(`${f.at('accessModes')}[${i}]`, `${quote(m)} is not one of ${CLAIM_ACCESS_MODES.join(', ')}`);
    }
  });
  if (accessModes.length === 0 && !issues.list.slice(before).some((i) => i.path.startsWith(f.at('accessModes')))) {
    issues.add(f.at('accessModes'), 'at least 1 access mode is required');
  }
  const storageClassName = f.optionalString('storageClassName', 253);
  const volumeMode = f.enumOf<'Filesystem'>('volumeMode', ['Filesystem'], ['Block']);
  let storageBytes: number | undefined;
  const res = f.object('resources', CLAIM_RESOURCES_SHAPE);
  const requests = res?.object('requests', STORAGE_ONLY_SHAPE);
  const limits = res?.object('limits', STORAGE_ONLY_SHAPE);
  if (requests?.has('storage')) storageBytes = quantity(issues, requests.at('storage'), requests.get('storage'), parseBytes);
  else issues.add(`${f.at('resources')}.requests.storage`, 'field is required (the size the claim asks for)');
  if (limits?.has('storage')) {
    const limit = quantity(issues, limits.at('storage'), limits.get('storage'), parseBytes);
    if (limit !== undefined && storageBytes !== undefined && limit < storageBytes) {
      issues.add(limits.at('storage'), `${quote(limits.get('storage'))} must be at least the request`);
    }
  }
  if (issues.list.length > before) return undefined;
  const claim: ClaimSpec = { accessModes, labels, annotations };
  if (storageBytes !== undefined) claim.storageBytes = storageBytes;
  if (storageClassName !== undefined) claim.storageClassName = storageClassName;
  if (volumeMode !== undefined) claim.volumeMode = volumeMode;
  return claim;
}

/** A `kind: PersistentVolumeClaim` document (apiVersion v1), as kube play takes it. */
export interface ClaimObject {
  name: string;
  claim: ClaimSpec;
}

export const PVC_DOC_SHAPE: ObjectShape = { type: 'PersistentVolumeClaim', known: ['apiVersion', 'kind', 'metadata', 'spec', 'status'] };
const PVC_METADATA_SHAPE: ObjectShape = { type: 'ObjectMeta', known: ['name', 'namespace', 'labels', 'annotations'] };

/** Paths are relative to the document (`spec.resources.requests.storage`). */
export function decodeClaimObject(doc: unknown, issues: Issues): ClaimObject | undefined {
  if (!isObject(doc)) {
    issues.add('', 'a PersistentVolumeClaim must be an object');
    return undefined;
  }
  const before = issues.list.length;
  const root = Fields.open(issues, '', doc, PVC_DOC_SHAPE)!;
  if (root.get('apiVersion') !== 'v1')
    issues.add('apiVersion', `${quote(root.get('apiVersion'))} is not supported: a PersistentVolumeClaim is apiVersion v1`);
  const status = root.get('status');
  if (status !== undefined && !(isObject(status) && Object.keys(status).length === 0)) {
    issues.add('status', 'field is not supported by minipod (it is written by a cluster, not by the user; remove it)');
  }
  const meta = root.object('metadata', PVC_METADATA_SHAPE);
  if (!meta) {
    if (!root.has('metadata')) issues.add('metadata', 'field is required (metadata.name names the volume)');
    return undefined;
  }
  const name = meta.requiredString('name', 253);
  if (name !== undefined) {
    const p = claimNameProblem(name);
    if (p) issues.add(meta.at('name'), `${quote(name)} ${p}`);
  }
  meta.optionalString('namespace', 253);
  const labels = labelsOf(meta);
  const annotations = annotationsOf(meta);
  const spec = root.object('spec', CLAIM_SPEC_SHAPE);
  if (!spec) {
    if (!root.has('spec')) issues.add('spec', 'field is required');
    return undefined;
  }
  const claim = decodeClaimSpec(spec, labels, annotations);
  if (!claim || name === undefined || issues.list.length > before) return undefined;
  return { name, claim };
}

/** The named volume an ephemeral volume gets: `<pod>-<volume>`, as Kubernetes names its claim. */
export function ephemeralVolumeName(pod: string, volume: string): string {
  return `${pod}-${volume}`;
}
