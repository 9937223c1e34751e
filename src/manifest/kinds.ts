/**
 * The table of kinds `minipod run` reads: kind -> apiVersions, phase and decoder: a row per
 * kind (PersistentVolumeClaim in claims.ts, the workload kinds in workloads.ts).
 *
 * Phases: `object` documents (ConfigMap, Secret, ...) are decoded first, in any order, so that
 * `pods` documents (Pod, and kinds that hold a pod template) can refer to any of them wherever
 * they are in the input, as `kube play` allows.
 */
import type { Issues } from './issues.js';
import type { JsonObject } from './reader.js';
import type { PodSpec } from './types.js';
import type { ConfigMapObject, ObjectLookup, ObjectOrigin, SecretObject } from './objects/types.js';
import { decodeConfigMap, decodeSecret } from './objects/config-objects.js';
import { decodePod } from './decode.js';
import type { ClaimSpec, WorkloadKind } from './types.js';
import { decodeClaimObject } from './claims.js';
import { decodeWorkload, WORKLOAD_API_VERSIONS } from './workloads.js';
import { workloadPods } from './workload-pods.js';
import { validatePod } from './validate.js';

/** Everything the documents hold, decoded and checked. */
export interface ManifestBundle {
  pods: PodSpec[];
  configMaps: ConfigMapObject[];
  secrets: SecretObject[];
  /** Named volumes to create before the pods start (PersistentVolumeClaim documents, StatefulSet claims). */
  claims: BundleClaim[];
}

export interface BundleClaim {
  name: string;
  claim: ClaimSpec;
  origin: 'PersistentVolumeClaim' | 'StatefulSet';
  /** `StatefulSet/<name>`: removed with it (persistentVolumeClaimRetentionPolicy.whenDeleted: Delete). */
  deleteWith?: string;
}

export interface DocumentContext {
  /** This document's problems, with paths inside the document. */
  issues: Issues;
  /** Absolute folder of the file the document is in (relative image paths). */
  manifestDir: string;
  origin: ObjectOrigin;
  /** The objects of every document, for pods' references (complete in the `pods` phase). */
  objects: ObjectLookup;
  bundle: ManifestBundle;
}

/** What a decoded document named: the key that must be unique among its kind. */
export interface DecodedName {
  name: string;
  namespace?: string;
}

export interface KindDecoder {
  apiVersions: readonly string[];
  phase: 'object' | 'pods';
  /** Decodes one document into the bundle; returns its name, or undefined when it is invalid. */
  decode(doc: JsonObject, ctx: DocumentContext): DecodedName | undefined;
}

export const KINDS: Readonly<Record<string, KindDecoder>> = {
  ConfigMap: {
    apiVersions: ['v1'],
    phase: 'object',
    decode(doc, ctx) {
      const cm = decodeConfigMap(doc, ctx.issues, ctx.origin);
      if (cm) ctx.bundle.configMaps.push(cm);
      return cm;
    },
  },
  Secret: {
    apiVersions: ['v1'],
    phase: 'object',
    decode(doc, ctx) {
      const secret = decodeSecret(doc, ctx.issues, ctx.origin);
      if (secret) ctx.bundle.secrets.push(secret);
      return secret;
    },
  },
  PersistentVolumeClaim: {
    apiVersions: ['v1'],
    phase: 'object',
    decode(doc, ctx) {
      const pvc = decodeClaimObject(doc, ctx.issues);
      if (pvc) ctx.bundle.claims.push({ ...pvc, origin: 'PersistentVolumeClaim' });
      return pvc;
    },
  },
  Pod: {
    apiVersions: ['v1'],
    phase: 'pods',
    decode(doc, ctx) {
      const { pod } = decodePod(doc, ctx.manifestDir, { issues: ctx.issues, objects: ctx.objects });
      if (!pod) return undefined;
      for (const issue of validatePod(pod)) ctx.issues.add(issue.path, issue.message);
      if (!ctx.issues.ok) return undefined;
      ctx.bundle.pods.push(pod);
      return pod;
    },
  },
  Deployment: workloadDecoder('Deployment'),
  ReplicaSet: workloadDecoder('ReplicaSet'),
  StatefulSet: workloadDecoder('StatefulSet'),
  DaemonSet: workloadDecoder('DaemonSet'),
  Job: workloadDecoder('Job'),
};

/** A kind that holds a pod template: its pods (and a StatefulSet's claims) join the bundle. */
function workloadDecoder(kind: WorkloadKind): KindDecoder {
  return {
    apiVersions: [WORKLOAD_API_VERSIONS[kind]],
    phase: 'pods',
    decode(doc, ctx) {
      const plan = decodeWorkload(kind, doc, ctx.issues);
      if (!plan) return undefined;
      const made = workloadPods(
        plan,
        (podDoc, issues) => {
          const { pod } = decodePod(podDoc, ctx.manifestDir, { issues, objects: ctx.objects });
          return { pod, problems: pod ? validatePod(pod) : [] };
        },
        ctx.issues,
      );
      if (!made) return undefined;
      // Clashing pod names are reported by the bundle (bundle.ts), against every document.
      ctx.bundle.pods.push(...made.pods);
      ctx.bundle.claims.push(...made.claims.map((c) => ({ ...c, origin: 'StatefulSet' as const })));
      return plan;
    },
  };
}

/** Kinds refused with a reason of their own rather than the generic one. */
export const REFUSED_KINDS: Readonly<Record<string, string>> = {
  CronJob:
    '"CronJob" is not supported: minipod has no scheduler to start Jobs on a schedule; run its spec.jobTemplate as a Job (kind: Job, apiVersion: batch/v1) from cron or a systemd timer',
};

/** Kubernetes kinds people put beside a pod that minipod does not run, for a clearer refusal. */
export const KUBERNETES_KINDS_NOT_RUN = [
  'Service',
  'Ingress',
  'Namespace',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'LimitRange',
  'ResourceQuota',
  'PersistentVolume',
  'StorageClass',
  'ReplicationController',
  'PodTemplate',
  'Endpoints',
  'EndpointSlice',
  'CustomResourceDefinition',
  'PriorityClass',
  'RuntimeClass',
];
