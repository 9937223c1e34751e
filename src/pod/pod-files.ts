/**
 * The pod's own directories (lib and log dirs, the shared /dev/shm) and the /etc files every
 * container binds. The name claim and the state are pod-record.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inContext } from '../errors.js';
import type { PodSpec } from '../manifest/types.js';
import os from 'node:os';
import { renderEtcHosts, renderResolvConf } from '../network/index.js';
import type { Syscall } from '../syscall/syscall.js';
import { mountTmpfs } from './host-mounts.js';
import type { PodLayout } from '../paths.js';

/** The pod's directories, fresh logs, and the /dev/shm tmpfs every container of the pod shares. */
export function preparePodDirs(sys: Syscall, layout: PodLayout): void {
  fs.mkdirSync(layout.libDir, { recursive: true, mode: 0o700 });
  // A new pod of an old name starts with fresh logs.
  fs.rmSync(layout.logDir, { recursive: true, force: true });
  fs.mkdirSync(layout.logDir, { recursive: true, mode: 0o750 });
  fs.mkdirSync(layout.initRoot, { recursive: true, mode: 0o700 });
  // One tmpfs for the whole pod: containers share /dev/shm as they share the IPC namespace.
  inContext("mount the pod's /dev/shm", () => mountTmpfs(sys, layout.shm, 'mode=1777,size=65536k'));
  // The containers' process records hold their environment, Secret values included (exec and
  // exec probes start with it): a tmpfs keeps them off the disk even where /run is not one.
  inContext('mount the tmpfs of the process records', () => mountTmpfs(sys, path.join(layout.runDir, 'containers'), 'mode=700,size=4m'));
}

/** /etc/hostname and /etc/hosts before the network is up; resolv.conf comes with it. */
export function writePodEtcFiles(layout: PodLayout, spec: PodSpec, hostname: string): void {
  fs.writeFileSync(layout.etcHostname, `${hostname}\n`);
  writeEtcHosts(layout, spec, hostname);
  fs.writeFileSync(layout.resolvConf, '');
}

/** /etc/hosts as kubelet writes it: the pod's address (once known) and spec.hostAliases. */
export function writeEtcHosts(layout: PodLayout, spec: PodSpec, hostname: string, ip?: string): void {
  fs.writeFileSync(layout.etcHosts, renderEtcHosts(hostname, ip, spec.hostAliases));
}

/** A hostNetwork pod keeps the host's UTS namespace, and so its hostname. */
export function podHostname(spec: PodSpec): string {
  return spec.hostNetwork ? os.hostname() : spec.hostname;
}

/** /etc/hosts with the pod's address and resolv.conf, once the network is up; returns resolv.conf's warnings. */
export function writePodNetworkFiles(
  layout: PodLayout,
  spec: PodSpec,
  ip: string | undefined,
  hostResolv: { text: string; upstream?: string },
): string[] {
  writeEtcHosts(layout, spec, podHostname(spec), ip);
  const resolv = renderResolvConf(spec, hostResolv.text, { upstreamResolvConfText: hostResolv.upstream });
  fs.writeFileSync(layout.resolvConf, resolv.text);
  return resolv.warnings;
}
