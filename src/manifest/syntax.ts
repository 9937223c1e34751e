/**
 * The small syntaxes a manifest is made of: Kubernetes names, label keys, env names, IPs,
 * Linux capability names. Each returns a reason string when the value is bad, or undefined.
 */
import { isIP } from 'node:net';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Kubernetes' DNS-1123 label: container, volume, pod names and the hostname. */
export function dns1123LabelProblem(s: string): string | undefined {
  if (s.length > 63) return 'must be at most 63 characters';
  if (!DNS1123_LABEL.test(s)) {
    return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit";
  }
  return undefined;
}

/** Kubernetes' DNS-1123 subdomain: dot-separated labels, at most 253 characters. */
export function dns1123SubdomainProblem(s: string): string | undefined {
  if (s.length > 253) return 'must be at most 253 characters';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s)) {
    return 'must be a DNS-1123 subdomain: lower-case labels separated by dots';
  }
  return undefined;
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A label or annotation key: an optional DNS subdomain prefix and `/`, then a name of <= 63. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return "must be a name with an optional prefix, e.g. 'example.com/name'";
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') return 'prefix must not be empty';
    const p = dns1123SubdomainProblem(prefix);
    if (p) return `prefix ${p}`;
  }
  if (name.length === 0) return 'name part must not be empty';
  if (name.length > 63) return 'name part must be at most 63 characters';
  if (!QUALIFIED_NAME.test(name)) {
    return "name part must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

/** A label value: empty, or up to 63 characters of the qualified-name alphabet. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return 'must be at most 63 characters';
  if (!QUALIFIED_NAME.test(value)) {
    return "must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

/**
 * An environment variable name. Kubernetes (since 1.30) accepts any printable ASCII but `=`;
 * that is also what execve can carry.
 */
export function envNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.includes('=')) return "must not contain '='";
  if (!/^[\x20-\x7e]+$/.test(name)) return 'must consist of printable ASCII characters';
  return undefined;
}

/** IANA service name, as Kubernetes requires for port names. */
export function portNameProblem(name: string): string | undefined {
  if (name.length > 15) return 'must be at most 15 characters';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.includes('--')) {
    return "must be lower-case letters, digits and single '-' between them";
  }
  if (!/[a-z]/.test(name)) return 'must contain at least one letter';
  return undefined;
}

/** An HTTP header field name (RFC 9110 token). */
export function headerNameProblem(name: string): string | undefined {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return 'is not a valid HTTP header name';
  return undefined;
}

export function isIpAddress(s: string): boolean {
  return isIP(s) !== 0;
}

/** Linux capabilities by number (CAP_CHOWN is 0), without the `CAP_` prefix. */
export const LINUX_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
];

/** `cap_net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` -> `NET_ADMIN`; undefined if not a capability. */
export function normaliseCapability(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const n = upper.startsWith('CAP_') ? upper.slice(4) : upper;
  return LINUX_CAPABILITIES.includes(n) ? n : undefined;
}

/** Absolute, without `.`/`..`/empty components and trailing slash: `/a//b/../c/` -> `/a/c`. */
export function normaliseAbsolutePath(p: string): string {
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return `/${parts.join('/')}`;
}
