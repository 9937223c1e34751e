/**
 * What the rest of minipod gets from src/images: lower dirs for overlayfs and the image config.
 */
import type { MinipodPaths } from '../paths.js';

/**
 * The parts of an OCI image config minipod applies (issue 8). Empty for a plain root
 * filesystem, which carries no config.
 */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** `NAME=value` strings, as in the OCI config. */
  env?: string[];
  workingDir?: string;
  /** `uid`, `uid:gid`, `name` or `name:group`, resolved against the image's /etc/passwd later. */
  user?: string;
  stopSignal?: string;
}

export interface ResolvedImage {
  /** Stable identity: `sha256:<hex>` for content-addressed images, `dir:<realpath>` for a directory. */
  id: string;
  /**
   * Read-only overlay lower dirs, topmost first (the order of overlayfs `lowerdir=`). Never
   * written by minipod. Paths never contain `:` or `,` (the lowerdir= separators).
   */
  layers: string[];
  config: ImageConfig;
}

export interface ResolveImageOptions {
  /** The manifest's folder: relative image paths are relative to it. */
  manifestDir: string;
  paths: MinipodPaths;
  /** Prefix of error messages, e.g. `spec.containers[0].image`. */
  fieldPath?: string;
  /**
   * The container's `imagePullPolicy` (registry images only). Default as in Kubernetes:
   * Always for `:latest` or no tag, IfNotPresent otherwise.
   */
  pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Who the pin is for (store/gc.ts): a pod name in the daemon, which outlives its pods, so
   * each pod drops its own pins; this process (until it exits) when absent.
   */
  pinOwner?: string;
  /** Per-layer progress of imports and pulls (`minipod pull`); silent when absent. */
  progress?: import('./import.js').PullProgress;
  /** Registry logins of the pod's imagePullSecrets (docker config documents), tried before the auth files. */
  pullSecrets?: readonly { name: string; dockerConfig: Record<string, unknown> }[];
}

/** Context handed to each image kind's resolver. */
export interface ResolveContext extends ResolveImageOptions {
  /** The image string as written in the manifest. */
  image: string;
  /** Builds a one-line UserError prefixed with the field path. */
  fail(message: string, code: string, cause?: unknown): Error;
}
