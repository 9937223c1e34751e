/** The machine and tool versions the numbers were measured with. */
import fs from 'node:fs';
import os from 'node:os';
import { trySh } from './exec.js';

export function machineInfo(): Record<string, string> {
  const cgroupMode = fs.existsSync('/sys/fs/cgroup/unified')
    ? 'hybrid (v1 + unified)'
    : fs.existsSync('/sys/fs/cgroup/cgroup.controllers')
      ? 'v2'
      : 'v1';
  return {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: os.release(),
    os: trySh('. /etc/os-release && echo "$PRETTY_NAME"').trim(),
    cgroups: cgroupMode,
  };
}

export function toolVersions(extra: Record<string, string>): Record<string, string> {
  const first = (cmd: string): string => trySh(`${cmd} 2>&1`).split('\n')[0]!.trim() || '?';
  return {
    node: process.version,
    ...extra,
    conmon: first('conmon --version'),
    catatonit: first('catatonit --version'),
    'CNI plugins': first('/usr/lib/cni/bridge --version'),
    iptables: first('iptables --version'),
  };
}
