/**
 * Secret content is kept out of every file minipod writes (spec.json, under the run dir): the
 * saved spec keeps where each value came from, not the value. `restart` of such a pod asks for
 * its manifests again, as the Secret is only in them.
 */
import type { PodSpec } from './types.js';

export function hasSecretData(pod: PodSpec): boolean {
  const env = [...pod.initContainers, ...pod.containers].some((c) => c.env.some((e) => e.secret));
  const files = pod.volumes.some((v) => v.source.kind === 'files' && v.source.files.some((f) => f.secret));
  return env || files || (pod.pullSecrets?.length ?? 0) > 0;
}

/** A copy of the spec without Secret content, marked so that nobody runs it as it is. */
export function withoutSecretData(pod: PodSpec): PodSpec {
  if (!hasSecretData(pod)) return pod;
  const strip = (c: PodSpec['containers'][number]) => ({ ...c, env: c.env.map((e) => (e.secret ? { ...e, value: '' } : e)) });
  return {
    ...pod,
    initContainers: pod.initContainers.map(strip),
    containers: pod.containers.map(strip),
    volumes: pod.volumes.map((v) =>
      v.source.kind === 'files'
        ? { ...v, source: { ...v.source, files: v.source.files.map((f) => (f.secret ? { ...f, data: '' } : f)) } }
        : v,
    ),
    pullSecrets: pod.pullSecrets?.map((s) => ({ name: s.name, dockerConfig: {} })),
    secretDataRemoved: true,
  };
}
