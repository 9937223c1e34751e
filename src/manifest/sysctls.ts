/**
 * Which sysctls a pod may set, as Kubernetes decides it (kubelet's safe set plus the sysctls the
 * kernel keeps per namespace). A pod's sysctl is written inside the pod's own network or IPC
 * namespace, so it never changes the host; a sysctl the kernel keeps host-wide (vm.*, most of
 * kernel.*) has no per-pod copy and is refused.
 */

/** kubelet's safe sysctls (allowed on every node without --allowed-unsafe-sysctls). */
export const SAFE_SYSCTLS: readonly string[] = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

export type SysctlNamespace = 'net' | 'ipc';

/** Kubernetes' namespaced sysctls: exact names, then prefixes. */
const NAMESPACED_EXACT: Record<string, SysctlNamespace> = { 'kernel.sem': 'ipc' };
const NAMESPACED_PREFIXES: [string, SysctlNamespace][] = [
  ['kernel.shm', 'ipc'],
  ['kernel.msg', 'ipc'],
  ['fs.mqueue.', 'ipc'],
  ['net.', 'net'],
];

const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;

/**
 * Kubernetes accepts `net/ipv4/conf/eth0.100/rp_filter` as well as the dotted form; a name
 * whose first separator is `/` has its `.` and `/` swapped, so in the dotted form a `/` stands
 * for a literal dot inside one component (`net.ipv4.conf.eth0/100.rp_filter`).
 */
export function normaliseSysctlName(name: string): string {
  const first = name.search(/[./]/);
  if (first === -1 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

export function sysctlNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'must be at most 253 characters';
  if (!SYSCTL_NAME.test(name)) {
    return "is not a sysctl name: lower-case components of letters, digits, '-' and '_', separated by '.' (or '/')";
  }
  return undefined;
}

/** The namespace the kernel keeps this sysctl in, or undefined when it is host-wide. */
export function sysctlNamespace(dottedName: string): SysctlNamespace | undefined {
  const exact = NAMESPACED_EXACT[dottedName];
  if (exact) return exact;
  return NAMESPACED_PREFIXES.find(([prefix]) => dottedName.startsWith(prefix))?.[1];
}

/** `net.ipv4.conf.eth0/100.rp_filter` -> `/proc/sys/net/ipv4/conf/eth0.100/rp_filter`. */
export function sysctlProcPath(dottedName: string): string {
  return `/proc/sys/${dottedName.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;
}
