/** The pod's /etc/hosts, laid out like the kubelet's. */
import type { HostAlias } from '../manifest/types.js';

export type { HostAlias };

/**
 * `ip` is the pod's address; without one (mode none) the hostname maps to 127.0.1.1 as on
 * Debian, so it resolves without claiming `localhost`'s line. `spec.hostAliases` follow under
 * kubelet's comment, one line per entry with its hostnames tab-separated.
 */
export function renderEtcHosts(hostname: string, ip?: string, extra: HostAlias[] = []): string {
  const lines = [
    '# Kubernetes-managed hosts file (written by minipod).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${ip ?? '127.0.1.1'}\t${hostname}`,
  ];
  const aliases = extra.filter((a) => a.hostnames.length > 0);
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}
