/**
 * The `minipod.io/...` annotations: what a pod container's ContainerPlan holds that config.json
 * has no field for (crun's `run.oci.*` annotations are the same idea). Written by
 * ociConfigFromPlan (from-plan.ts), read back here; a malformed one is an error naming it.
 */
import type { CgroupView, ProcessSpec, RootfsSpec, SeccompFilter } from '../../plan/types.js';
import { configError, isObject } from './errors.js';

export const ANNOTATION = {
  /** `pod/container`: the plan's id, for messages. */
  id: 'minipod.io/id',
  /** JSON {lowerDirs, upperDir, workDir}: root.path is an overlay of these, mounted inside the container's mount namespace. */
  overlay: 'minipod.io/rootfs-overlay',
  /** JSON list of cgroup.procs files: the pod made the cgroups; the container joins, writes no limit. */
  cgroupProcs: 'minipod.io/cgroup-procs',
  /** JSON CgroupView: the container's cgroup namespace and cgroup2 mount, as the pod planned them. */
  cgroupView: 'minipod.io/cgroup-view',
  /** JSON of the plan's process.user (a name resolved in the image, the pod's groups, strict groups). */
  user: 'minipod.io/user',
  /** `true`: refuse to run as uid 0 (securityContext.runAsNonRoot). */
  runAsNonRoot: 'minipod.io/run-as-non-root',
  /** JSON SeccompFilter: the filter the pod compiled (its profile resolved for its capabilities). */
  seccomp: 'minipod.io/seccomp-filter',
  /** `true`: the pod has its own user namespace; root.path is mounted already (idmapped layers). */
  inUserNamespace: 'minipod.io/in-user-namespace',
  /** JSON list of {path, target}: the symlinks in /dev (else the runtime's defaults). */
  symlinks: 'minipod.io/dev-symlinks',
  /** JSON list of mount destinations that are files (a bind of a file the runtime cannot stat in advance). */
  fileMounts: 'minipod.io/file-mounts',
} as const;

export interface PodAnnotations {
  id?: string;
  overlay?: Pick<RootfsSpec, 'lowerDirs' | 'upperDir' | 'workDir'>;
  cgroupProcs?: string[];
  cgroupView?: CgroupView;
  user?: ProcessSpec['user'];
  runAsNonRoot?: boolean;
  seccomp?: SeccompFilter;
  inUserNamespace?: boolean;
  symlinks?: { path: string; target: string }[];
  fileMounts?: Set<string>;
}

function json(annotations: Record<string, string>, key: string): unknown {
  const text = annotations[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw configError(`annotations.${key}`, 'is not valid JSON');
  }
}

function stringList(key: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw configError(`annotations.${key}`, 'is not a JSON list of strings');
  return v as string[];
}

function flag(annotations: Record<string, string>, key: string): boolean | undefined {
  const v = annotations[key];
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw configError(`annotations.${key}`, `"${v}" is not true or false`);
  return v === 'true';
}

export function readPodAnnotations(annotations: Record<string, string>): PodAnnotations {
  const out: PodAnnotations = {};
  if (annotations[ANNOTATION.id] !== undefined) out.id = annotations[ANNOTATION.id];
  const overlay = json(annotations, ANNOTATION.overlay);
  if (overlay !== undefined) {
    if (!isObject(overlay) || typeof overlay.upperDir !== 'string' || typeof overlay.workDir !== 'string') {
      throw configError(`annotations.${ANNOTATION.overlay}`, 'needs lowerDirs, upperDir and workDir');
    }
    out.overlay = { lowerDirs: stringList(ANNOTATION.overlay, overlay.lowerDirs), upperDir: overlay.upperDir, workDir: overlay.workDir };
  }
  const procs = json(annotations, ANNOTATION.cgroupProcs);
  if (procs !== undefined) out.cgroupProcs = stringList(ANNOTATION.cgroupProcs, procs);
  const view = json(annotations, ANNOTATION.cgroupView);
  if (view !== undefined) {
    if (!isObject(view) || typeof view.namespace !== 'boolean')
      throw configError(`annotations.${ANNOTATION.cgroupView}`, 'needs namespace (a boolean)');
    out.cgroupView = view as unknown as CgroupView;
  }
  const user = json(annotations, ANNOTATION.user);
  if (user !== undefined) {
    if (!isObject(user)) throw configError(`annotations.${ANNOTATION.user}`, 'is not an object');
    out.user = user as ProcessSpec['user'];
  }
  const nonRoot = flag(annotations, ANNOTATION.runAsNonRoot);
  if (nonRoot) out.runAsNonRoot = true;
  const seccomp = json(annotations, ANNOTATION.seccomp);
  if (seccomp !== undefined) {
    if (!isObject(seccomp) || typeof seccomp.program !== 'string' || typeof seccomp.flags !== 'number') {
      throw configError(`annotations.${ANNOTATION.seccomp}`, 'needs profile, program and flags');
    }
    out.seccomp = seccomp as unknown as SeccompFilter;
  }
  if (flag(annotations, ANNOTATION.inUserNamespace)) out.inUserNamespace = true;
  const links = json(annotations, ANNOTATION.symlinks);
  if (links !== undefined) {
    if (!Array.isArray(links) || links.some((l) => !isObject(l) || typeof l.path !== 'string' || typeof l.target !== 'string')) {
      throw configError(`annotations.${ANNOTATION.symlinks}`, 'is not a list of {path, target}');
    }
    out.symlinks = links as { path: string; target: string }[];
  }
  const files = json(annotations, ANNOTATION.fileMounts);
  if (files !== undefined) out.fileMounts = new Set(stringList(ANNOTATION.fileMounts, files));
  return out;
}
