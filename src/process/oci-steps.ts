/**
 * The helper's steps for what config.json adds to a container (src/oci translates it into the
 * plan): hostname, domainname, oom_score_adj, rlimits, and minipod-oci's create/start protocol
 * (protocol.ts, steps o1-o3): tell the runtime the mounts are made and wait while it runs the
 * prestart/createRuntime hooks, run createContainer hooks before pivot_root, say `created`,
 * block on the exec fifo until `start`, run startContainer hooks, then go on to execve.
 */
import fs from 'node:fs';
import { RLIMITS } from '../../native-bindings/constants.js';
import { inContext, UserError } from '../errors.js';
import type { ContainerPlan, OciPlanPart, ProcessSpec } from '../plan/types.js';
import type { Syscall } from '../syscall/syscall.js';
import { runHooksSync } from './oci-hooks.js';
import { CONTROL_FD, encodeMessage } from './protocol.js';

/** O_PATH (x86_64): a handle on the fifo that neither reads nor writes, so it does not block. */
const O_PATH = 0o10000000;

/** Before the mounts: names in the container's UTS namespace, the OOM score (host /proc still). */
export function containerSettings(sys: Syscall, plan: ContainerPlan): void {
  if (plan.hostname !== undefined) inContext('set the hostname', () => sys.sethostname(plan.hostname!));
  if (plan.domainname !== undefined) inContext('set the domainname', () => sys.setdomainname(plan.domainname!));
  if (plan.loopbackUp) inContext('bring the loopback interface up', () => sys.bringInterfaceUp('lo'));
  const adj = plan.process.oomScoreAdj;
  if (adj !== undefined) inContext('write oom_score_adj', () => fs.writeFileSync('/proc/self/oom_score_adj', String(adj)));
}

/** Right before the credentials change: raising a hard limit needs CAP_SYS_RESOURCE. */
export function setRlimits(sys: Syscall, spec: ProcessSpec): void {
  for (const r of spec.rlimits ?? []) {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new UserError(`process.rlimits: unknown resource ${r.type}`);
    inContext(`set ${r.type}`, () => sys.setrlimit(resource, r.soft, r.hard));
  }
}

export function openExecFifo(oci: OciPlanPart): number {
  if (oci.execFifoFd !== undefined) return oci.execFifoFd;
  return inContext(`open ${oci.execFifo}`, () => fs.openSync(oci.execFifo, O_PATH));
}

function readLine(): string {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (;;) {
    const n = fs.readSync(CONTROL_FD, buf, 0, buf.length, null);
    if (n === 0) throw new UserError('minipod-oci create went away');
    text += buf.subarray(0, n).toString('utf8');
    if (text.includes('\n')) return text.slice(0, text.indexOf('\n'));
  }
}

/** Mounts made, still in the host's root: the runtime's hooks, then createContainer hooks here. */
export function ociBeforePivot(plan: ContainerPlan): void {
  const oci = plan.oci!;
  if (oci.syncBeforePivot) {
    fs.writeSync(CONTROL_FD, encodeMessage({ type: 'mounted' }));
    const answer = readLine();
    if (!answer.includes('"continue"')) throw new UserError(`minipod-oci create: unexpected answer ${answer.slice(0, 100)}`);
  }
  runHooksSync('createContainer', oci.createContainerHooks, { ...oci.hookState, status: 'created' });
}

export function finishCreate(): void {
  fs.writeSync(CONTROL_FD, encodeMessage({ type: 'created' }));
}

/**
 * Blocks until `start` opens the fifo for reading (runc's exec.fifo): the open for writing
 * waits for a reader, then one byte tells start that this process took it. Through
 * /proc/self/fd: the fifo's host path is out of reach since pivot_root.
 */
export function awaitStart(oci: OciPlanPart, fifo: number): void {
  const fd = inContext('wait for start on the exec fifo', () => fs.openSync(`/proc/self/fd/${fifo}`, fs.constants.O_WRONLY));
  fs.writeSync(fd, '0');
  fs.closeSync(fd);
  fs.closeSync(fifo);
  runHooksSync('startContainer', oci.startContainerHooks, { ...oci.hookState, status: 'created' });
}
