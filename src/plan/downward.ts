/**
 * Values of the downward API, resolved the way kubelet does (pkg/fieldpath and
 * pkg/api/v1/resource): pure, from the PodSpec and what only exists once the pod does.
 */
import type { ContainerSpec, DownwardSource, PodSpec, ResourceFieldRef } from '../manifest/types.js';
import { subscriptKey } from '../manifest/downward.js';

/** What the pod's runtime knows: its uid, IPs, and the host. */
export interface DownwardValues {
  uid: string;
  /** Empty until CNI ADD has run (env is resolved after it). */
  podIPs: string[];
  hostIPs: string[];
  nodeName: string;
  /** The host's capacity: what an unset limit resolves to, as kubelet's node allocatable. */
  allocatable: { cpuMilli: number; memoryBytes: number; ephemeralStorageBytes: number };
}

/** kubelet's FormatMap: `key="value"` lines in key order, values quoted. */
export function formatMap(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(m[k])}`)
    .join('\n');
}

function fieldValue(fieldPath: string, pod: PodSpec, v: DownwardValues): string {
  const sub = subscriptKey(fieldPath);
  if (sub) return (sub.map === 'labels' ? pod.labels : pod.annotations)[sub.key] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace ?? 'default';
    case 'metadata.uid':
      return v.uid;
    case 'metadata.labels':
      return formatMap(pod.labels);
    case 'metadata.annotations':
      return formatMap(pod.annotations);
    case 'spec.nodeName':
      return v.nodeName;
    // The API server's admission gives every pod a service account, `default` unless named.
    case 'spec.serviceAccountName':
      return pod.serviceAccountName ?? 'default';
    case 'status.podIP':
      return v.podIPs[0] ?? '';
    case 'status.podIPs':
      return v.podIPs.join(',');
    case 'status.hostIP':
      return v.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return v.hostIPs.join(',');
    default:
      throw new Error(`downward API: unknown fieldPath ${fieldPath}`);
  }
}

function findContainer(pod: PodSpec, name: string): ContainerSpec {
  const c = [...pod.containers, ...pod.initContainers].find((x) => x.name === name);
  if (!c) throw new Error(`downward API: no container ${name}`);
  return c;
}

/**
 * A limit or request divided by the divisor, rounded up. An unset limit is the host's
 * capacity; an unset request is 0 (kubelet's rules).
 */
export function resourceValue(ref: ResourceFieldRef, pod: PodSpec, v: DownwardValues): string {
  const r = findContainer(pod, ref.containerName).resources;
  const [which, name] = ref.resource.split('.') as ['limits' | 'requests', string];
  const list = which === 'limits' ? r.limits : r.requests;
  let amount: number | undefined;
  if (name === 'cpu') amount = list.cpuMilli ?? (which === 'limits' ? v.allocatable.cpuMilli : 0);
  else if (name === 'memory') amount = list.memoryBytes ?? (which === 'limits' ? v.allocatable.memoryBytes : 0);
  else amount = list.ephemeralStorageBytes ?? (which === 'limits' ? v.allocatable.ephemeralStorageBytes : 0);
  return String(Math.ceil(amount / ref.divisor));
}

export function resolveDownward(source: DownwardSource, pod: PodSpec, v: DownwardValues): string {
  return 'fieldPath' in source ? fieldValue(source.fieldPath, pod, v) : resourceValue(source.resourceFieldRef, pod, v);
}
