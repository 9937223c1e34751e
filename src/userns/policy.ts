/**
 * Whether a pod gets a user namespace of its own.
 *
 * - `spec.hostUsers: false`: yes (refused by the manifest checks where it cannot work).
 * - `spec.hostUsers: true`: no, whatever the defaults say.
 * - otherwise the pod's `minipod.io/userns` annotation (`auto` or `host`), else the daemon's
 *   MINIPOD_USERNS (`auto` or `host`, default `host`). `auto` applies to the pods that can
 *   have one: not hostNetwork, one PID namespace for the pod, every run-as id below 65536
 *   (like Kubernetes, whose hostUsers defaults to true, and podman's --userns=auto).
 */
import { UserError } from '../errors.js';
import type { PodSpec } from '../manifest/types.js';
import { IDS_PER_POD } from './ranges.js';

export type UsernsDefault = 'auto' | 'host';

export function hostUsernsDefault(env: NodeJS.ProcessEnv = process.env): UsernsDefault {
  const value = env.MINIPOD_USERNS ?? '';
  if (value === '' || value === 'host') return 'host';
  if (value === 'auto') return 'auto';
  throw new UserError(`MINIPOD_USERNS: "${value}" is not one of auto, host`, { code: 'userns.setting' });
}

function canHaveOwnUsers(pod: PodSpec): boolean {
  if (pod.hostNetwork || !pod.shareProcessNamespace) return false;
  return [...pod.initContainers, ...pod.containers].every(
    (c) => (c.securityContext.runAsUser ?? 0) < IDS_PER_POD && (c.securityContext.runAsGroup ?? 0) < IDS_PER_POD,
  );
}

export function usesUserNamespace(pod: PodSpec, env: NodeJS.ProcessEnv = process.env): boolean {
  if (pod.hostUsers !== undefined) return !pod.hostUsers;
  const setting = pod.minipod.userns ?? hostUsernsDefault(env);
  return setting === 'auto' && canHaveOwnUsers(pod);
}
