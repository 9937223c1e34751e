/**
 * Rules that relate fields to each other, run in order on a decoded PodSpec (runc's validator
 * style: a list of small checks). Each check adds issues with their field path; the caller
 * throws the first. Field-local syntax (types, enums, names) was checked while decoding.
 */
import type { ContainerSpec, DownwardSource, PodSpec, ResourceList, Resources } from './types.js';
import { Issues, quote, type Issue } from './issues.js';
import { formatBytes, formatCpu } from './quantity.js';
import { sysctlNamespace } from './sysctls.js';

export type PodCheck = (pod: PodSpec, issues: Issues) => void;

/** The kernel's CFS quota floor is 1ms per (default) 100ms period: 10m of a CPU. */
export const MIN_CPU_LIMIT_MILLI = 10;
/** docker and podman refuse less; below it the container's own runtime does not fit. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;

interface Located {
  container: ContainerSpec;
  /** `spec.containers[1]` or `spec.initContainers[0]`. */
  path: string;
}

function allContainers(pod: PodSpec): Located[] {
  return [
    ...pod.initContainers.map((container, i) => ({ container, path: `spec.initContainers[${i}]` })),
    ...pod.containers.map((container, i) => ({ container, path: `spec.containers[${i}]` })),
  ];
}

/** Names identify containers in logs, exec, cgroups: one name, one container. */
export const uniqueContainerNames: PodCheck = (pod, issues) => {
  const seen = new Set<string>();
  for (const { container, path } of allContainers(pod)) {
    if (seen.has(container.name)) issues.add(`${path}.name`, `${quote(container.name)} is used twice`);
    seen.add(container.name);
  }
};

export const uniqueVolumeNames: PodCheck = (pod, issues) => {
  const seen = new Set<string>();
  pod.volumes.forEach((v, i) => {
    if (seen.has(v.name)) issues.add(`spec.volumes[${i}].name`, `${quote(v.name)} is used twice`);
    seen.add(v.name);
  });
};

export const mountsNameVolumes: PodCheck = (pod, issues) => {
  const names = new Set(pod.volumes.map((v) => v.name));
  for (const { container, path } of allContainers(pod)) {
    container.volumeMounts.forEach((m, i) => {
      if (!names.has(m.name)) {
        issues.add(`${path}.volumeMounts[${i}].name`, `${quote(m.name)} is not a volume of the pod (spec.volumes)`);
      }
    });
  }
};

/** Two mounts on one path: the second would hide the first. */
export const uniqueMountPaths: PodCheck = (pod, issues) => {
  for (const { container, path } of allContainers(pod)) {
    const seen = new Set<string>();
    container.volumeMounts.forEach((m, i) => {
      if (seen.has(m.mountPath)) issues.add(`${path}.volumeMounts[${i}].mountPath`, `${quote(m.mountPath)} is mounted twice`);
      seen.add(m.mountPath);
    });
  }
};

/** Limits the kernel cannot honour, and requests above limits (Kubernetes' rule). */
export const containerResources: PodCheck = (pod, issues) => {
  for (const { container, path } of allContainers(pod)) {
    checkResources(container.resources, `${path}.resources`, issues);
  }
};

export const podResources: PodCheck = (pod, issues) => {
  if (!pod.resources) return;
  const base = 'spec.resources';
  checkResources(pod.resources, base, issues);
  // Kubernetes (pod-level resources): no container may be allowed more than the pod, and the
  // pod must be able to hold what its containers request.
  const { limits, requests } = pod.resources;
  for (const { container, path } of allContainers(pod)) {
    const c = container.resources.limits;
    if (limits.cpuMilli !== undefined && c.cpuMilli !== undefined && c.cpuMilli > limits.cpuMilli) {
      issues.add(
        `${path}.resources.limits.cpu`,
        `${formatCpu(c.cpuMilli)} is more than the pod's limit (spec.resources.limits.cpu: ${formatCpu(limits.cpuMilli)})`,
      );
    }
    if (limits.memoryBytes !== undefined && c.memoryBytes !== undefined && c.memoryBytes > limits.memoryBytes) {
      issues.add(
        `${path}.resources.limits.memory`,
        `${formatBytes(c.memoryBytes)} is more than the pod's limit (spec.resources.limits.memory: ${formatBytes(limits.memoryBytes)})`,
      );
    }
  }
  const need = effectiveRequests(pod);
  if (requests.cpuMilli !== undefined && need.cpuMilli !== undefined && need.cpuMilli > requests.cpuMilli) {
    issues.add(
      `${base}.requests.cpu`,
      `${formatCpu(requests.cpuMilli)} is less than the containers request together (${formatCpu(need.cpuMilli)})`,
    );
  }
  if (requests.memoryBytes !== undefined && need.memoryBytes !== undefined && need.memoryBytes > requests.memoryBytes) {
    issues.add(
      `${base}.requests.memory`,
      `${formatBytes(requests.memoryBytes)} is less than the containers request together (${formatBytes(need.memoryBytes)})`,
    );
  }
};

/**
 * What the pod needs at its peak, as Kubernetes counts it: init containers run one at a time
 * before the app containers, but a sidecar keeps running beside every later init container
 * and the app containers. So the largest of (sidecars started so far + the init container)
 * and (all sidecars + all app containers).
 */
export function effectiveRequests(pod: PodSpec): ResourceList {
  const sum = (key: 'cpuMilli' | 'memoryBytes'): number | undefined => {
    const all = [...pod.initContainers, ...pod.containers];
    if (all.every((c) => c.resources.requests[key] === undefined)) return undefined;
    const req = (c: ContainerSpec): number => c.resources.requests[key] ?? 0;
    let sidecars = 0;
    let peak = 0;
    for (const c of pod.initContainers) {
      if (c.restartPolicy === 'Always') sidecars += req(c);
      peak = Math.max(peak, c.restartPolicy === 'Always' ? sidecars : sidecars + req(c));
    }
    return Math.max(peak, sidecars + pod.containers.reduce((a, c) => a + req(c), 0));
  };
  const out: ResourceList = {};
  const cpu = sum('cpuMilli');
  const mem = sum('memoryBytes');
  if (cpu !== undefined) out.cpuMilli = cpu;
  if (mem !== undefined) out.memoryBytes = mem;
  return out;
}

function checkResources(r: Resources, base: string, issues: Issues): void {
  const { limits, requests } = r;
  if (limits.cpuMilli === 0) {
    issues.add(`${base}.limits.cpu`, '0 is not a usable cpu limit: the container could never run (omit the limit for no limit)');
  } else if (limits.cpuMilli !== undefined && limits.cpuMilli < MIN_CPU_LIMIT_MILLI) {
    issues.add(
      `${base}.limits.cpu`,
      `${formatCpu(limits.cpuMilli)} is below the minimum of ${MIN_CPU_LIMIT_MILLI}m: the kernel's minimum CPU quota is 1ms per 100ms period`,
    );
  }
  if (limits.memoryBytes !== undefined && limits.memoryBytes < MIN_MEMORY_LIMIT_BYTES) {
    issues.add(
      `${base}.limits.memory`,
      `${formatBytes(limits.memoryBytes)} is below the minimum of 6Mi (as docker and podman): the container would be killed at once`,
    );
  }
  const pairs: [keyof ResourceList, string, (n: number) => string][] = [
    ['cpuMilli', 'cpu', formatCpu],
    ['memoryBytes', 'memory', formatBytes],
    ['ephemeralStorageBytes', 'ephemeral-storage', formatBytes],
  ];
  for (const [key, name, fmt] of pairs) {
    const req = requests[key];
    const lim = limits[key];
    if (typeof req === 'number' && typeof lim === 'number' && req > lim) {
      issues.add(`${base}.requests.${name}`, `${fmt(req)} must be less than or equal to the ${name} limit (${fmt(lim)})`);
    }
  }
}

/** Port names are what probes refer to: they must be unambiguous within a container. */
export const uniquePortNames: PodCheck = (pod, issues) => {
  for (const { container, path } of allContainers(pod)) {
    const seen = new Set<string>();
    container.ports.forEach((p, i) => {
      if (p.name === undefined) return;
      if (seen.has(p.name)) issues.add(`${path}.ports[${i}].name`, `${quote(p.name)} is used twice`);
      seen.add(p.name);
    });
  }
};

const WILDCARD_IPS = new Set(['', '0.0.0.0', '::']);

/**
 * Two publications of one host port collide when protocol and port match and the addresses
 * overlap (an unset hostIP or 0.0.0.0/:: binds every address).
 */
export const hostPorts: PodCheck = (pod, issues) => {
  const seen: { port: number; protocol: string; ip: string; where: string }[] = [];
  for (const { container, path } of allContainers(pod)) {
    container.ports.forEach((p, i) => {
      const at = `${path}.ports[${i}]`;
      if (p.hostPort === undefined) {
        if (p.hostIP !== undefined) issues.add(`${at}.hostIP`, 'is set but hostPort is not: nothing would be published');
        return;
      }
      if (pod.hostNetwork && p.hostPort !== p.containerPort) {
        issues.add(`${at}.hostPort`, `${p.hostPort} must equal containerPort (${p.containerPort}) with spec.hostNetwork: true`);
        return;
      }
      if (!pod.hostNetwork && pod.minipod.network === 'none') {
        issues.add(`${at}.hostPort`, 'cannot be published with annotation minipod.io/network: none');
        return;
      }
      const ip = p.hostIP ?? '';
      const clash = seen.find(
        (s) => s.port === p.hostPort && s.protocol === p.protocol && (s.ip === ip || WILDCARD_IPS.has(s.ip) || WILDCARD_IPS.has(ip)),
      );
      if (clash) {
        issues.add(`${at}.hostPort`, `${p.hostPort}/${p.protocol} is already published by ${clash.where}`);
        return;
      }
      seen.push({ port: p.hostPort, protocol: p.protocol, ip, where: at });
    });
  }
};

/** Kubernetes' securityContext consistency rules. */
export const securityContexts: PodCheck = (pod, issues) => {
  for (const { container, path } of allContainers(pod)) {
    const sc = container.securityContext;
    const at = `${path}.securityContext`;
    if (!sc.allowPrivilegeEscalation && sc.privileged) {
      issues.add(`${at}.allowPrivilegeEscalation`, 'cannot be false when privileged is true');
    }
    if (!sc.allowPrivilegeEscalation && sc.capabilities.add.some((c) => c === 'SYS_ADMIN' || c === 'ALL')) {
      issues.add(`${at}.allowPrivilegeEscalation`, 'cannot be false when capabilities.add has SYS_ADMIN');
    }
    if (sc.runAsNonRoot === true && sc.runAsUser === 0) {
      issues.add(`${at}.runAsUser`, '0 (root) contradicts runAsNonRoot: true');
    }
    // Kubernetes' rule: an unmasked /proc only in a user namespace, where it cannot reach the host.
    if (sc.procMount === 'Unmasked' && (pod as { hostUsers?: boolean }).hostUsers !== false) {
      issues.add(`${at}.procMount`, 'Unmasked requires spec.hostUsers: false (a user namespace), as in Kubernetes');
    }
  }
};

export const dnsSettings: PodCheck = (pod, issues) => {
  if (pod.dnsPolicy === 'None' && (pod.dnsConfig?.nameservers.length ?? 0) === 0) {
    issues.add('spec.dnsConfig.nameservers', 'at least one nameserver is required with dnsPolicy: None');
  }
};

export const networkMode: PodCheck = (pod, issues) => {
  if (pod.hostNetwork && pod.annotations['minipod.io/network'] === 'none') {
    issues.add('metadata.annotations["minipod.io/network"]', '"none" contradicts spec.hostNetwork: true');
  }
};

/** A resourceFieldRef names a container of the pod (an env var's own container by default). */
export const downwardResourceRefs: PodCheck = (pod, issues) => {
  const names = new Set(allContainers(pod).map((c) => c.container.name));
  const check = (ref: DownwardSource | undefined, at: string): void => {
    if (ref && 'resourceFieldRef' in ref && !names.has(ref.resourceFieldRef.containerName)) {
      issues.add(`${at}.resourceFieldRef.containerName`, `${quote(ref.resourceFieldRef.containerName)} is not a container of the pod`);
    }
  };
  for (const { container, path } of allContainers(pod)) {
    container.env.forEach((e, i) => check(e.from, `${path}.env[${i}].valueFrom`));
  }
  pod.volumes.forEach((v, i) => {
    if (v.source.kind !== 'files') return;
    for (const f of v.source.files) check(f.from, `spec.volumes[${i}].${v.source.type}`);
  });
};

/** Ids a pod in its own user namespace can use: the 65536 its range maps. */
const USERNS_IDS = 65536;

/**
 * hostUsers: false needs the pod's own network (Kubernetes refuses it with hostNetwork) and one
 * PID namespace for the pod (see docs/security.md: a container's own PID namespace would need a
 * process between the daemon and the container), and every uid and gid inside the mapped range.
 */
export const userNamespace: PodCheck = (pod, issues) => {
  if (pod.hostUsers !== false) return;
  if (pod.hostNetwork)
    issues.add('spec.hostUsers', "false cannot be combined with spec.hostNetwork: true (the host's network belongs to the host's users)");
  if (!pod.shareProcessNamespace) {
    issues.add(
      'spec.shareProcessNamespace',
      'false is not supported with spec.hostUsers: false (the containers of a pod with its own user namespace share its PID namespace)',
    );
  }
  for (const { container, path } of allContainers(pod)) {
    const sc = container.securityContext;
    for (const field of ['runAsUser', 'runAsGroup'] as const) {
      const id = sc[field];
      if (id !== undefined && id >= USERNS_IDS) {
        issues.add(
          `${path}.securityContext.${field}`,
          `${id} is outside the ${USERNS_IDS} ids a pod with spec.hostUsers: false has (0-${USERNS_IDS - 1})`,
        );
      }
    }
  }
};

/**
 * A pod's sysctls are written inside its own namespaces: one the kernel keeps host-wide would
 * change the host, and a net.* one of a hostNetwork pod would change the host's network.
 */
export const podSysctls: PodCheck = (pod, issues) => {
  pod.securityContext.sysctls.forEach((s, i) => {
    const at = `spec.securityContext.sysctls[${i}].name`;
    const ns = sysctlNamespace(s.name);
    if (ns === undefined) {
      issues.add(
        at,
        `${quote(s.name)} is not a namespaced sysctl: setting it would change the whole host (a pod may set net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.*)`,
      );
    } else if (ns === 'net' && pod.hostNetwork) {
      issues.add(at, `${quote(s.name)} cannot be set with spec.hostNetwork: true: the pod shares the host's network namespace`);
    }
  });
};

/** In order: names before references to them, so the first error is the root cause. */
export const podChecks: readonly PodCheck[] = [
  uniqueContainerNames,
  uniqueVolumeNames,
  mountsNameVolumes,
  uniqueMountPaths,
  containerResources,
  podResources,
  uniquePortNames,
  hostPorts,
  securityContexts,
  dnsSettings,
  networkMode,
  downwardResourceRefs,
  userNamespace,
  podSysctls,
];

/** Runs every check; an empty list means the pod is valid. */
export function validatePod(pod: PodSpec, checks: readonly PodCheck[] = podChecks): Issue[] {
  const issues = new Issues();
  for (const check of checks) check(pod, issues);
  return issues.list;
}
