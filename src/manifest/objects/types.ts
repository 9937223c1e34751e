/**
 * The non-Pod objects a manifest may carry beside its pods (podman `kube play`'s multi-object
 * input). Held in the daemon's memory while pods are decoded: their content reaches a pod only
 * through the fields that reference them (volumes, env, imagePullSecrets).
 */

/** Where an object came from, for messages: `all.yaml: ConfigMap "app"`. */
export interface ObjectOrigin {
  source: string;
  label: string;
}

/** A ConfigMap: `data` (UTF-8 text) and `binaryData` (base64) merged into bytes per key. */
export interface ConfigMapObject {
  kind: 'ConfigMap';
  name: string;
  namespace?: string;
  data: Map<string, Buffer>;
  immutable: boolean;
  origin: ObjectOrigin;
}

/** A Secret: `data` (base64) with `stringData` (plain text) written over it, as the API server does. */
export interface SecretObject {
  kind: 'Secret';
  name: string;
  namespace?: string;
  /** `Opaque` unless set. */
  type: string;
  data: Map<string, Buffer>;
  immutable: boolean;
  origin: ObjectOrigin;
}

/** What a pod's references are resolved against. */
export interface ObjectLookup {
  configMap(name: string, namespace: string | undefined): ConfigMapObject | undefined;
  secret(name: string, namespace: string | undefined): SecretObject | undefined;
}

/** No objects: a single Pod document. */
export const NO_OBJECTS: ObjectLookup = {
  configMap: () => undefined,
  secret: () => undefined,
};
