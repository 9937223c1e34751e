/**
 * `spec.securityContext.sysctls`, written inside the pod's network and IPC namespaces once its
 * network is up (so per-interface ones like net.ipv4.conf.eth0.* find eth0) and before any
 * container starts, as a runtime applies them to the sandbox. The supervisor's main thread
 * joins the namespaces for the synchronous writes only: /proc/sys/net and the IPC sysctls
 * show the namespace of the thread that opens them. The host's values never change.
 */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import type { PodSpec } from '../manifest/types.js';
import { type SysctlNamespace, sysctlNamespace, sysctlProcPath } from '../manifest/sysctls.js';
import { spawnInNamespaces } from '../namespaces/pod-namespaces.js';
import type { Syscall } from '../syscall/syscall.js';

export interface SysctlWrite {
  /** /proc/sys/... */
  path: string;
  value: string;
  namespace: SysctlNamespace;
  /** For errors: `spec.securityContext.sysctls[0]`. */
  field: string;
  name: string;
}

/** The writes, in manifest order (validation already refused host-wide ones). */
export function planSysctls(pod: PodSpec): SysctlWrite[] {
  return pod.securityContext.sysctls.map((s, i) => ({
    path: sysctlProcPath(s.name),
    value: s.value,
    namespace: sysctlNamespace(s.name) ?? 'net',
    field: `spec.securityContext.sysctls[${i}]`,
    name: s.name,
  }));
}

function writeOne(w: SysctlWrite): void {
  let fd: number;
  try {
    fd = fs.openSync(w.path, fs.constants.O_WRONLY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserError(`${w.field}.name: ${w.name}: no such sysctl in the pod's namespaces on this kernel`, { code: 'pod.sysctl' });
    throw new UserError(`${w.field}.name: ${w.name}: cannot be set in the pod (${code ?? (err as Error).message})`, { code: 'pod.sysctl' });
  }
  try {
    fs.writeSync(fd, w.value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EINVAL' ? 'the kernel refused the value' : (code ?? (err as Error).message);
    throw new UserError(`${w.field}.value: ${JSON.stringify(w.value)} for ${w.name}: ${why}`, { code: 'pod.sysctl' });
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the plan from inside the namespaces of `initPid` (the pod's PID 1). */
export function applySysctls(sys: Syscall, initPid: number, writes: SysctlWrite[]): void {
  if (writes.length === 0) return;
  const namespaces = [...new Set(writes.map((w) => w.namespace))];
  spawnInNamespaces(sys, { create: [], join: { pid: initPid, namespaces } }, () => {
    for (const w of writes) writeOne(w);
  });
}
