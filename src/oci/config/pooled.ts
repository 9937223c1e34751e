/**
 * The pooled create's stub config.json (docs/architecture.md, "Containers that outlive the
 * daemon", the conmon pool). The daemon starts conmon, and so `minipod-oci create`, before it
 * knows the container: the bundle then holds this stub, which names the namespaces to spawn the
 * helper into (the warm sandbox's init's) and the daemon that pooled it. create spawns and boots
 * the helper, then waits for the real config.json (written over the stub with a rename) and
 * finishes as for any bundle. Anything else than a stub is an ordinary config: minipod-oci used
 * by podman or containerd never sees the wait.
 */
import type { ProcessRef } from '../../state/pod-state.js';
import { configError, isObject } from './errors.js';
import { type NamespaceRequest, translateNamespaces } from './linux.js';

export const POOLED = {
  /** On the stub: what create waits for (the file named). */
  wait: 'minipod.io/pooled-config-wait',
  /** On the stub: `<pid>:<start time>` of the daemon; create gives up when it is gone. */
  owner: 'minipod.io/pooled-owner',
  /**
   * On the stub: the nice value create and its helper return to once the real config came.
   * The pool boots them at nice 19 (so a refill does not take the CPUs from the pods starting
   * meanwhile); a claimed container runs at the daemon's priority.
   */
  priority: 'minipod.io/pooled-priority',
} as const;

/** Files of a pooled bundle beside config.json. */
export const POOLED_FILES = {
  /** Written by create once its helper booted: the entry is ready to be claimed. */
  ready: 'pool-ready',
  /** Written by the daemon to drain the entry: create exits with an error, conmon with it. */
  abort: 'pool-abort',
} as const;

/** The namespaces a pooled helper can be spawned into: those joined by path at spawn. */
const SPAWN_TYPES: readonly NamespaceRequest['type'][] = ['pid', 'network', 'ipc', 'uts'];

export interface PooledStub {
  namespaces: NamespaceRequest[];
  owner: ProcessRef;
  /** The nice value to return to once claimed (absent: the one create started with). */
  priority?: number;
}

/** The stub's config.json. Pure. */
export function pooledStubConfig(stub: PooledStub, ociVersion: string): Record<string, unknown> {
  return {
    ociVersion,
    annotations: {
      [POOLED.wait]: 'config.json',
      [POOLED.owner]: `${stub.owner.pid}:${stub.owner.startTime}`,
      ...(stub.priority !== undefined ? { [POOLED.priority]: String(stub.priority) } : {}),
    },
    linux: { namespaces: stub.namespaces.map((n) => ({ type: n.type, path: n.path })) },
  };
}

/** The stub a config is, or undefined for an ordinary config. A malformed stub is an error. */
export function parsePooledStub(config: unknown): PooledStub | undefined {
  if (!isObject(config) || !isObject(config.annotations) || config.annotations[POOLED.wait] === undefined) return undefined;
  const annotations = config.annotations;
  if (annotations[POOLED.wait] !== 'config.json') throw configError(`annotations["${POOLED.wait}"]`, 'names nothing but config.json');
  const owner = /^(\d+):(\d+)$/.exec(String(annotations[POOLED.owner] ?? ''));
  if (!owner) throw configError(`annotations["${POOLED.owner}"]`, 'is not <pid>:<start time>');
  const namespaces = translateNamespaces(isObject(config.linux) ? config.linux.namespaces : undefined);
  const bad = namespaces.findIndex((n) => !n.path || !SPAWN_TYPES.includes(n.type));
  if (bad >= 0) throw configError(`linux.namespaces[${bad}]`, 'a pooled create joins pid, network, ipc and uts namespaces by path only');
  const priority = annotations[POOLED.priority];
  const nice = Number(priority);
  if (priority !== undefined && !(typeof priority === 'string' && /^-?\d+$/.test(priority) && nice >= -20 && nice <= 19))
    throw configError(`annotations["${POOLED.priority}"]`, 'is not a nice value (-20 to 19)');
  return {
    namespaces,
    owner: { pid: Number(owner[1]), startTime: Number(owner[2]) },
    ...(priority !== undefined ? { priority: nice } : {}),
  };
}

/**
 * Why the real config cannot use the helper spawned for the stub (undefined: it can). Only the
 * namespaces the helper was spawned into count: the config must join exactly those.
 */
export function pooledMismatch(stub: PooledStub, namespaces: readonly NamespaceRequest[], terminal: boolean): string | undefined {
  if (terminal) return 'a pooled create has no console socket (process.terminal)';
  const key = (list: readonly NamespaceRequest[]): string =>
    list
      .filter((n) => SPAWN_TYPES.includes(n.type))
      .map((n) => `${n.type}=${n.path ?? 'new'}`)
      .sort()
      .join(',');
  const want = key(namespaces);
  const have = key(stub.namespaces);
  return want === have ? undefined : `the config's namespaces (${want}) are not those the pooled helper was spawned into (${have})`;
}
