/**
 * Workload objects (apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet; batch/v1 Job):
 * what their spec asks of the pods, decoded and checked, pure. workload-pods.ts turns the plan
 * into pods.
 *
 * There is no controller: the pods are made once, when `run` reads the object, and named
 * `<name>-0` .. `<name>-<N-1>` (a StatefulSet's names; Kubernetes gives the other kinds random
 * suffixes, which minipod does not, so `rm` and `logs` have names to use). Fields that only a
 * controller acts on over time (rollout strategy, history, readiness delays) are accepted with a
 * warning; fields that would change which pods run, or when, and that minipod cannot honour are
 * refused.
 */
import type { ClaimSpec, WorkloadKind } from './types.js';
import { childPath, type Issues, quote } from './issues.js';
import { Fields, isObject, type JsonObject, type ObjectShape } from './reader.js';
import { annotationsOf, decodeClaimTemplate, labelsOf } from './claims.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, qualifiedNameProblem } from './syntax.js';

export const WORKLOAD_API_VERSIONS: Readonly<Record<WorkloadKind, string>> = {
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
};

/** Most replicas one object may ask for: every one is a pod on this host. */
export const MAX_REPLICAS = 64;

const ROLLOUT = 'a controller acts on it when the object changes; minipod makes the pods once';
const NO_CONTROLLER_RETRIES = "there is no Job controller to replace failed pods; the pod template's restartPolicy applies";

const SPEC_SHAPES: Readonly<Record<WorkloadKind, ObjectShape>> = {
  Deployment: {
    type: 'DeploymentSpec',
    known: ['replicas', 'selector', 'template', 'paused'],
    clusterOnly: { strategy: ROLLOUT, minReadySeconds: ROLLOUT, revisionHistoryLimit: ROLLOUT, progressDeadlineSeconds: ROLLOUT },
  },
  ReplicaSet: { type: 'ReplicaSetSpec', known: ['replicas', 'selector', 'template'], clusterOnly: { minReadySeconds: ROLLOUT } },
  StatefulSet: {
    type: 'StatefulSetSpec',
    known: [
      'replicas',
      'selector',
      'template',
      'volumeClaimTemplates',
      'podManagementPolicy',
      'ordinals',
      'persistentVolumeClaimRetentionPolicy',
    ],
    clusterOnly: {
      serviceName: 'no Service gives the pods DNS names on one host',
      updateStrategy: ROLLOUT,
      revisionHistoryLimit: ROLLOUT,
      minReadySeconds: ROLLOUT,
    },
  },
  DaemonSet: {
    type: 'DaemonSetSpec',
    known: ['selector', 'template'],
    clusterOnly: { updateStrategy: ROLLOUT, minReadySeconds: ROLLOUT, revisionHistoryLimit: ROLLOUT },
  },
  Job: {
    type: 'JobSpec',
    known: ['parallelism', 'completions', 'selector', 'manualSelector', 'template', 'completionMode', 'suspend'],
    clusterOnly: {
      backoffLimit: NO_CONTROLLER_RETRIES,
      ttlSecondsAfterFinished: "minipod keeps a finished pod's record until `minipod rm`",
    },
  },
};
const WORKLOAD_METADATA_SHAPE: ObjectShape = { type: 'ObjectMeta', known: ['name', 'namespace', 'labels', 'annotations'] };
const TEMPLATE_SHAPE: ObjectShape = { type: 'PodTemplateSpec', known: ['metadata', 'spec'] };
const TEMPLATE_METADATA_SHAPE: ObjectShape = {
  type: 'ObjectMeta',
  known: ['labels', 'annotations'],
  clusterOnly: {
    name: 'the pods are named after the object: <name>-0, <name>-1, ...',
    generateName: 'the pods are named after the object: <name>-0, <name>-1, ...',
  },
};
const SELECTOR_SHAPE: ObjectShape = { type: 'LabelSelector', known: ['matchLabels', 'matchExpressions'] };
const REQUIREMENT_SHAPE: ObjectShape = { type: 'LabelSelectorRequirement', known: ['key', 'operator', 'values'] };
const ORDINALS_SHAPE: ObjectShape = { type: 'StatefulSetOrdinals', known: ['start'] };
const RETENTION_SHAPE: ObjectShape = { type: 'StatefulSetPersistentVolumeClaimRetentionPolicy', known: ['whenDeleted', 'whenScaled'] };

export interface LabelRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelRequirement[];
}

/** What the pods of one workload object are to be; the template's pod spec is still raw JSON. */
export interface WorkloadPlan {
  kind: WorkloadKind;
  name: string;
  namespace?: string;
  /** The replicas' ordinals, in start order; pod i is `<name>-<ordinal>`. */
  ordinals: number[];
  /** The pod template's metadata and (undecoded) spec. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  podSpec: JsonObject;
  /** StatefulSet: one claim per template and replica, `<template>-<name>-<ordinal>`. */
  claimTemplates: { name: string; claim: ClaimSpec }[];
  /** Job with `completionMode: Indexed`: each pod gets its index (JOB_COMPLETION_INDEX). */
  indexed: boolean;
  /** StatefulSet `whenDeleted: Delete`: `rm StatefulSet/<name>` removes the claims' volumes too. */
  deleteClaims: boolean;
}

export function podNameOf(plan: Pick<WorkloadPlan, 'name'>, ordinal: number): string {
  return `${plan.name}-${ordinal}`;
}

/** A StatefulSet replica's claim, named as Kubernetes names it. */
export function claimNameOf(template: string, workload: string, ordinal: number): string {
  return `${template}-${workload}-${ordinal}`;
}

/** Whether a selector selects these labels (Kubernetes' label selector semantics). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  for (const r of selector.matchExpressions) {
    const has = Object.hasOwn(labels, r.key);
    if (r.operator === 'Exists' && !has) return false;
    if (r.operator === 'DoesNotExist' && has) return false;
    if (r.operator === 'In' && (!has || !r.values.includes(labels[r.key]!))) return false;
    if (r.operator === 'NotIn' && has && r.values.includes(labels[r.key]!)) return false;
  }
  return true;
}

function decodeSelector(f: Fields): LabelSelector {
  const matchLabels = f.stringMap('matchLabels', 256) ?? {};
  for (const k of Object.keys(matchLabels)) {
    const p = qualifiedNameProblem(k);
    if (p) f.issues.add(childPath(f.at('matchLabels'), k), `key ${p}`);
  }
  const matchExpressions = f.list('matchExpressions', 64, (item, path) => {
    const r = Fields.open(f.issues, path, item, REQUIREMENT_SHAPE);
    if (!r) return undefined;
    const key = r.requiredString('key', 317);
    const operator = r.enumOf<LabelRequirement['operator']>('operator', ['In', 'NotIn', 'Exists', 'DoesNotExist']);
    const values = r.stringArray('values', 256, 63) ?? [];
    if (operator === undefined && !r.has('operator')) f.issues.add(r.at('operator'), 'field is required');
    if ((operator === 'In' || operator === 'NotIn') && values.length === 0)
      f.issues.add(r.at('values'), `must be non-empty for operator ${operator}`);
    if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0)
      f.issues.add(r.at('values'), `must be empty for operator ${operator}`);
    if (key === undefined || operator === undefined) return undefined;
    return { key, operator, values };
  });
  return { matchLabels, matchExpressions };
}

function replicasOf(kind: WorkloadKind, spec: Fields): number | undefined {
  if (kind === 'DaemonSet') return 1; // One node: one daemon pod.
  if (kind === 'Job') return jobPods(spec);
  return spec.integer('replicas', { min: 0, max: MAX_REPLICAS }) ?? 1;
}

/**
 * A Job's pods, all at once: `completions` (default: `parallelism`, default 1). With fewer
 * `parallelism` than completions Kubernetes runs them in turns; without a controller minipod
 * runs them together, and says so.
 */
function jobPods(spec: Fields): number | undefined {
  const completions = spec.integer('completions', { min: 0, max: MAX_REPLICAS });
  const parallelism = spec.integer('parallelism', { min: 0, max: MAX_REPLICAS });
  if (spec.boolean('suspend') === true) {
    spec.issues.add(
      spec.at('suspend'),
      "true is not supported: minipod runs a Job's pods when it reads it (there is no controller to resume it)",
    );
    return undefined;
  }
  if (completions === undefined) return parallelism ?? 1;
  const p = parallelism ?? 1;
  if (p < completions && completions > 1) {
    spec.issues.warn(
      spec.has('parallelism') ? spec.at('parallelism') : spec.at('completions'),
      `minipod runs all ${completions} completions at once: there is no Job controller to run them ${p} at a time`,
    );
  }
  return p === 0 ? 0 : completions;
}

function decodeOrdinalStart(kind: WorkloadKind, spec: Fields): number {
  if (kind !== 'StatefulSet') return 0;
  return spec.object('ordinals', ORDINALS_SHAPE)?.integer('start', { min: 0, max: 1_000_000 }) ?? 0;
}

/** Whether the claims go when the StatefulSet is removed (`whenDeleted: Delete`). */
function checkStatefulSetPolicies(spec: Fields): boolean {
  spec.enumOf('podManagementPolicy', ['OrderedReady', 'Parallel']);
  const retention = spec.object('persistentVolumeClaimRetentionPolicy', RETENTION_SHAPE);
  const whenScaled = retention?.enumOf('whenScaled', ['Retain', 'Delete']);
  if (whenScaled === 'Delete') retention!.issues.warn(retention!.at('whenScaled'), 'minipod never scales a StatefulSet down');
  return retention?.enumOf('whenDeleted', ['Retain', 'Delete']) === 'Delete';
}

/** The workload's own metadata: its name is a DNS-1123 subdomain, and names its pods. */
function decodeWorkloadMetadata(root: Fields, issues: Issues): { name?: string; namespace?: string } {
  const f = root.object('metadata', WORKLOAD_METADATA_SHAPE);
  if (!f) {
    if (!root.has('metadata')) issues.add('metadata', 'field is required (metadata.name names the object and its pods)');
    return {};
  }
  const out: { name?: string; namespace?: string } = {};
  const name = f.requiredString('name', 253);
  if (name !== undefined) {
    const p = dns1123SubdomainProblem(name);
    // Pods are `<name>-<ordinal>`, and a pod's name is a DNS-1123 label here.
    const podProblem = p ? undefined : dns1123LabelProblem(`${name}-${MAX_REPLICAS}`);
    if (p) issues.add(f.at('name'), `${quote(name)} ${p}`);
    else if (podProblem) issues.add(f.at('name'), `${quote(name)} cannot name pods (${quote(`${name}-0`)} ${podProblem})`);
    else out.name = name;
  }
  const namespace = f.optionalString('namespace', 63);
  if (namespace !== undefined) out.namespace = namespace;
  labelsOf(f);
  annotationsOf(f);
  return out;
}

/**
 * Decodes a workload document (paths relative to it) into a plan, or undefined with issues.
 * The template's pod spec is decoded by the caller, as a Pod's.
 */
export function decodeWorkload(kind: WorkloadKind, doc: JsonObject, issues: Issues): WorkloadPlan | undefined {
  const before = issues.list.length;
  const root = Fields.open(issues, '', doc, { type: kind, known: ['apiVersion', 'kind', 'metadata', 'spec', 'status'] })!;
  const status = root.get('status');
  if (status !== undefined && !(isObject(status) && Object.keys(status).length === 0)) {
    issues.add('status', 'is written by a controller, not by the user: remove it (it usually comes from `kubectl get -o yaml`)');
  }
  const meta = decodeWorkloadMetadata(root, issues);
  const spec = root.object('spec', SPEC_SHAPES[kind]);
  if (!spec) {
    if (!root.has('spec')) issues.add('spec', 'field is required');
    return undefined;
  }
  const count = replicasOf(kind, spec);
  if (kind === 'Deployment' && spec.boolean('paused') === true) {
    issues.add(spec.at('paused'), 'true is not supported: a paused Deployment starts no pods, and minipod has no controller to resume it');
  }
  const ordinalStart = decodeOrdinalStart(kind, spec);
  const deleteClaims = kind === 'StatefulSet' && checkStatefulSetPolicies(spec);
  let indexed = false;
  if (kind === 'Job') indexed = spec.enumOf('completionMode', ['NonIndexed', 'Indexed']) === 'Indexed';

  const selectorFields = spec.object('selector', SELECTOR_SHAPE);
  const selector = selectorFields ? decodeSelector(selectorFields) : undefined;
  const template = spec.object('template', TEMPLATE_SHAPE);
  if (!template) {
    if (!spec.has('template')) issues.add(spec.at('template'), 'field is required (the pod template)');
    return undefined;
  }
  const tmeta = template.object('metadata', TEMPLATE_METADATA_SHAPE);
  const labels = tmeta ? labelsOf(tmeta) : {};
  const annotations = tmeta ? annotationsOf(tmeta) : {};
  const podSpec = template.get('spec');
  if (podSpec === undefined) issues.add(template.at('spec'), 'field is required');
  else if (!isObject(podSpec)) issues.add(template.at('spec'), 'expected an object');

  // Kubernetes' validation: apps/v1 needs a selector, not empty, that selects the template.
  if (kind !== 'Job' || spec.boolean('manualSelector') === true) {
    if (!selector) issues.add(spec.at('selector'), "field is required (it must select the template's labels)");
    else if (Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0) {
      issues.add(spec.at('selector'), "must not be empty (it must select the template's labels)");
    }
  }
  if (selector && issues.list.length === before && !selectorMatches(selector, labels)) {
    issues.add(
      `${template.at('metadata')}.labels`,
      `${quote(JSON.stringify(labels))} does not match spec.selector (Kubernetes requires the selector to select the template's pods)`,
    );
  }

  const claimTemplates: { name: string; claim: ClaimSpec }[] = [];
  if (kind === 'StatefulSet') {
    spec.list('volumeClaimTemplates', 32, (item, path) => {
      const t = decodeClaimTemplate(issues, path, item);
      if (t && t.name === undefined) issues.add(`${path}.metadata.name`, 'field is required (it names the volume in the pod template)');
      if (t?.name !== undefined) {
        if (claimTemplates.some((c) => c.name === t.name)) issues.add(`${path}.metadata.name`, `${quote(t.name)} is used twice`);
        claimTemplates.push({ name: t.name, claim: t.claim });
      }
      return undefined;
    });
  }
  if (issues.list.length > before || meta.name === undefined || count === undefined || !isObject(podSpec)) return undefined;
  const plan: WorkloadPlan = {
    kind,
    name: meta.name,
    ordinals: Array.from({ length: count }, (_, i) => ordinalStart + i),
    labels,
    annotations,
    podSpec,
    claimTemplates,
    indexed,
    deleteClaims,
  };
  if (meta.namespace !== undefined) plan.namespace = meta.namespace;
  return plan;
}
