/**
 * Every field of a Kubernetes v1 Pod and what minipod does with it, derived from the decoders'
 * shapes: `supported` (read and honoured), `warning` (accepted, one warning line: no effect on
 * one host) or `refused` (an error: "is a Kubernetes field minipod does not support").
 * docs/manifest.md's field table must list exactly these rows; a unit test compares the two.
 * A shape added for a new object inside a pod gets a row here.
 */
import type { ObjectShape } from './reader.js';
import { K8S_FIELDS } from './k8s-fields.js';
import { DNS_CONFIG_SHAPE, DNS_OPTION_SHAPE, LOCAL_OBJECT_REFERENCE_SHAPE, METADATA_SHAPE, POD_SHAPE, SPEC_SHAPE } from './decode.js';
import { HOST_ALIAS_SHAPE, POD_SECURITY_SHAPE, SYSCTL_SHAPE } from './pod-security.js';
import { CAPABILITIES_SHAPE, CONTAINER_SHAPE, MOUNT_SHAPE, PORT_SHAPE, RESOURCES_SHAPE, SECURITY_SHAPE } from './container.js';
import {
  CONFIG_MAP_ENV_SHAPE,
  CONFIG_MAP_KEY_SHAPE,
  ENV_FROM_SHAPE,
  ENV_SHAPE,
  ENV_VAR_SOURCE_SHAPE,
  SECRET_ENV_SHAPE,
  SECRET_KEY_SHAPE,
  FILE_KEY_SHAPE,
} from './env.js';
import { FIELD_REF_SHAPE, RESOURCE_FIELD_REF_SHAPE } from './downward.js';
import {
  EXEC_SHAPE,
  GRPC_SHAPE,
  HANDLER_SHAPE,
  HEADER_SHAPE,
  HTTP_GET_SHAPE,
  LIFECYCLE_SHAPE,
  PROBE_SHAPE,
  TCP_SOCKET_SHAPE,
} from './probes.js';
import { EMPTY_DIR_SHAPE, GIT_REPO_SHAPE, HOST_PATH_SHAPE, VOLUME_SHAPE } from './volumes.js';
import {
  CONFIG_MAP_PROJECTION_SHAPE,
  CONFIG_MAP_VOLUME_SHAPE,
  DOWNWARD_API_FILE_SHAPE,
  DOWNWARD_API_PROJECTION_SHAPE,
  DOWNWARD_API_VOLUME_SHAPE,
  KEY_TO_PATH_SHAPE,
  PROJECTED_SHAPE,
  PROJECTION_SHAPE,
  SECRET_PROJECTION_SHAPE,
  SECRET_VOLUME_SHAPE,
} from './file-volumes.js';
import { EPHEMERAL_SHAPE, IMAGE_SOURCE_SHAPE, PVC_SOURCE_SHAPE } from './claims.js';
import { SECCOMP_PROFILE_SHAPE } from './seccomp-profile.js';

const C = 'spec.containers[]';
const V = 'spec.volumes[]';

/** Where each shape sits in a Pod. initContainers[] share the containers' rows. */
export const POD_FIELD_SHAPES: readonly (readonly [string, ObjectShape])[] = [
  ['', POD_SHAPE],
  ['metadata', METADATA_SHAPE],
  ['spec', SPEC_SHAPE],
  ['spec.securityContext', POD_SECURITY_SHAPE],
  ['spec.securityContext.seccompProfile', SECCOMP_PROFILE_SHAPE],
  ['spec.securityContext.sysctls[]', SYSCTL_SHAPE],
  ['spec.hostAliases[]', HOST_ALIAS_SHAPE],
  ['spec.dnsConfig', DNS_CONFIG_SHAPE],
  ['spec.dnsConfig.options[]', DNS_OPTION_SHAPE],
  ['spec.imagePullSecrets[]', LOCAL_OBJECT_REFERENCE_SHAPE],
  ['spec.resources', RESOURCES_SHAPE],
  [C, CONTAINER_SHAPE],
  [`${C}.env[]`, ENV_SHAPE],
  [`${C}.env[].valueFrom`, ENV_VAR_SOURCE_SHAPE],
  [`${C}.env[].valueFrom.fieldRef`, FIELD_REF_SHAPE],
  [`${C}.env[].valueFrom.resourceFieldRef`, RESOURCE_FIELD_REF_SHAPE],
  [`${C}.env[].valueFrom.configMapKeyRef`, CONFIG_MAP_KEY_SHAPE],
  [`${C}.env[].valueFrom.secretKeyRef`, SECRET_KEY_SHAPE],
  [`${C}.env[].valueFrom.fileKeyRef`, FILE_KEY_SHAPE],
  [`${C}.envFrom[]`, ENV_FROM_SHAPE],
  [`${C}.envFrom[].configMapRef`, CONFIG_MAP_ENV_SHAPE],
  [`${C}.envFrom[].secretRef`, SECRET_ENV_SHAPE],
  [`${C}.volumeMounts[]`, MOUNT_SHAPE],
  [`${C}.resources`, RESOURCES_SHAPE],
  [`${C}.securityContext`, SECURITY_SHAPE],
  [`${C}.securityContext.capabilities`, CAPABILITIES_SHAPE],
  [`${C}.securityContext.seccompProfile`, SECCOMP_PROFILE_SHAPE],
  [`${C}.ports[]`, PORT_SHAPE],
  [`${C}.livenessProbe`, PROBE_SHAPE],
  [`${C}.lifecycle`, LIFECYCLE_SHAPE],
  [`${C}.lifecycle.postStart`, HANDLER_SHAPE],
  [`${C}.livenessProbe.exec`, EXEC_SHAPE],
  [`${C}.livenessProbe.httpGet`, HTTP_GET_SHAPE],
  [`${C}.livenessProbe.httpGet.httpHeaders[]`, HEADER_SHAPE],
  [`${C}.livenessProbe.tcpSocket`, TCP_SOCKET_SHAPE],
  [`${C}.livenessProbe.grpc`, GRPC_SHAPE],
  [V, VOLUME_SHAPE],
  [`${V}.hostPath`, HOST_PATH_SHAPE],
  [`${V}.emptyDir`, EMPTY_DIR_SHAPE],
  [`${V}.gitRepo`, GIT_REPO_SHAPE],
  [`${V}.configMap`, CONFIG_MAP_VOLUME_SHAPE],
  [`${V}.configMap.items[]`, KEY_TO_PATH_SHAPE],
  [`${V}.secret`, SECRET_VOLUME_SHAPE],
  [`${V}.downwardAPI`, DOWNWARD_API_VOLUME_SHAPE],
  [`${V}.downwardAPI.items[]`, DOWNWARD_API_FILE_SHAPE],
  [`${V}.projected`, PROJECTED_SHAPE],
  [`${V}.projected.sources[]`, PROJECTION_SHAPE],
  [`${V}.projected.sources[].configMap`, CONFIG_MAP_PROJECTION_SHAPE],
  [`${V}.projected.sources[].secret`, SECRET_PROJECTION_SHAPE],
  [`${V}.projected.sources[].downwardAPI`, DOWNWARD_API_PROJECTION_SHAPE],
  [`${V}.persistentVolumeClaim`, PVC_SOURCE_SHAPE],
  [`${V}.ephemeral`, EPHEMERAL_SHAPE],
  [`${V}.image`, IMAGE_SOURCE_SHAPE],
];

export type FieldSupport = 'supported' | 'warning' | 'refused';

export interface FieldRow {
  path: string;
  support: FieldSupport;
  /** The warning's reason, for `warning` rows. */
  note: string;
}

/** One row per Kubernetes field of every shape, in the shapes' and Kubernetes' order. */
export function podFieldTable(): FieldRow[] {
  const rows: FieldRow[] = [];
  for (const [base, shape] of POD_FIELD_SHAPES) {
    const fields: readonly string[] = shape.type ? K8S_FIELDS[shape.type] : shape.known;
    for (const field of fields) {
      const path = base ? `${base}.${field}` : field;
      const warning = shape.clusterOnly && Object.hasOwn(shape.clusterOnly, field) ? shape.clusterOnly[field]! : undefined;
      const support: FieldSupport = shape.known.includes(field) ? 'supported' : warning !== undefined ? 'warning' : 'refused';
      rows.push({ path, support, note: warning ?? '' });
    }
  }
  return rows;
}
