/**
 * Pods by the workload object that made them (the `owner` of their state): `minipod rm
 * Deployment/web` removes the pods of that Deployment, as `kubectl delete deployment web` does.
 */
import { UserError } from '../errors.js';
import type { MinipodPaths } from '../paths.js';
import { listPodNames, readPodState } from './pod-state.js';

const KINDS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'];

/**
 * The pods an argument names: `KIND/NAME` (kind in any case) is every pod of that object; a
 * bare NAME is the pod of that name, or else the pods of the one object of that name. Each
 * argument's pods in ordinal order; unknown names are left for the caller's own error.
 */
export function expandPodArguments(paths: MinipodPaths, args: readonly string[]): { pods: string[]; owners: string[] } {
  const states = listPodNames(paths).flatMap((n) => readPodState(paths, n) ?? []);
  const byOrdinal = (a: { owner?: { ordinal: number } }, b: { owner?: { ordinal: number } }): number =>
    (a.owner?.ordinal ?? 0) - (b.owner?.ordinal ?? 0);
  const out: string[] = [];
  const owners: string[] = [];
  for (const arg of args) {
    const slash = arg.indexOf('/');
    if (slash > 0) {
      const kind = KINDS.find((k) => k.toLowerCase() === arg.slice(0, slash).toLowerCase());
      const name = arg.slice(slash + 1);
      if (!kind)
        throw new UserError(`${arg}: "${arg.slice(0, slash)}" is not a kind that owns pods (${KINDS.join(', ')})`, {
          code: 'pod.not-found',
        });
      const pods = states.filter((s) => s.owner?.kind === kind && s.owner.name === name).sort(byOrdinal);
      if (pods.length === 0) throw new UserError(`${kind}/${name} has no pods`, { code: 'pod.not-found' });
      out.push(...pods.map((s) => s.name));
      owners.push(`${kind}/${name}`);
      continue;
    }
    if (states.some((s) => s.name === arg)) {
      out.push(arg);
      continue;
    }
    const owned = states.filter((s) => s.owner?.name === arg).sort(byOrdinal);
    const objects = [...new Set(owned.map((s) => `${s.owner!.kind}/${arg}`))];
    if (objects.length > 1) {
      throw new UserError(`"${arg}" is no pod, and names ${objects.join(' and ')}: say which`, { code: 'pod.ambiguous' });
    }
    out.push(...(owned.length > 0 ? owned.map((s) => s.name) : [arg]));
    owners.push(...objects);
  }
  return { pods: [...new Set(out)], owners: [...new Set(owners)] };
}
