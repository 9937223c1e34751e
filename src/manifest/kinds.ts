/**
 * The table of kinds `minipod run` reads: kind -> apiVersions, phase and decoder. This is the
 * extension point for more kinds (PersistentVolumeClaim, workloads): add a row.
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
import { validatePod } from './validate.js';

/** Everything the documents hold, decoded and checked. */
export interface ManifestBundle {
  pods: PodSpec[];
  configMaps: ConfigMapObject[];
  secrets: SecretObject[];
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
};

/** Kubernetes kinds people put beside a pod that minipod does not run, for a clearer refusal. */
export const KUBERNETES_KINDS_NOT_RUN = [
  'Service', 'Ingress', 'Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding',
  'NetworkPolicy', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'LimitRange', 'ResourceQuota',
  'PersistentVolume', 'PersistentVolumeClaim', 'StorageClass', 'Deployment', 'ReplicaSet', 'StatefulSet',
  'DaemonSet', 'Job', 'CronJob', 'ReplicationController', 'PodTemplate', 'Endpoints', 'EndpointSlice',
  'CustomResourceDefinition', 'PriorityClass', 'RuntimeClass',
];
