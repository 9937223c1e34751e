/**
 * The helper protocol, in one place: what the daemon (or `minipod exec`) and a helper say to
 * each other on the helper's fd 3, a socketpair (runc's sync.go, reduced to what we need).
 *
 * | # | from   | message                                   | meaning                                   |
 * |---|--------|-------------------------------------------|-------------------------------------------|
 * | 1 | helper | `{"type":"ready","pid":N}`                | booted, waits for its plan (warm pool); N its host pid |
 * | 2 | parent | a HelperPlan (`kind` container, pod-init or exec) | what to set up and exec           |
 * | 3a| helper | EOF, no message                           | the execve succeeded (fd 3 is close-on-exec) |
 * | 3b| helper | `{"type":"error","message":…,"exitCode":N}` | the start failed; the helper exits N     |
 *
 * A ContainerPlan with `oci` set (minipod-oci's create, src/oci) adds steps between 2 and 3:
 *
 * | # | from   | message                                   | meaning                                   |
 * |---|--------|-------------------------------------------|-------------------------------------------|
 * | o1| helper | `{"type":"mounted"}`                      | mounts made, before pivot_root (only with `oci.syncBeforePivot`) |
 * | o2| parent | `{"type":"continue"}`                     | prestart and createRuntime hooks ran      |
 * | o3| helper | `{"type":"created"}`                      | set up; now blocked opening `oci.execFifo` for writing until `start` reads it; the parent may exit |
 *
 * After o3 nobody reads fd 3: a failure after `start` (startContainer hook, execve) goes to the
 * container's stderr and the exit code.
 *
 * Every message is one JSON line. Both sides parse whole lines with the functions below: no
 * substring matching on the stream.
 */
import type { HelperPlan } from '../plan/types.js';

/** The helper's end of the control socketpair. */
export const CONTROL_FD = 3;

export interface ReadyMessage {
  type: 'ready';
  /**
   * The helper's pid in the host's pid namespace (/proc/self of the host's proc): the one to
   * know when the helper is not the process the parent spawned (minipod-oci's new user
   * namespace, where util-linux forks it as PID 1 of its new pid namespace).
   */
  pid?: number;
}

/** What a helper writes back when it cannot exec. */
export interface ErrorMessage {
  type: 'error';
  message: string;
  /** 125 setup failed, 126 cannot execute, 127 not found (podman's codes). */
  exitCode: number;
  /** Whose failure: the user's (their program, their manifest) or the host's; absent for a bug. */
  kind?: 'user' | 'host';
  /** What to check on the host, for a host failure. */
  hint?: string;
}

/** minipod-oci's create steps (table above). */
export interface MountedMessage {
  type: 'mounted';
}
export interface CreatedMessage {
  type: 'created';
}
export interface ContinueMessage {
  type: 'continue';
}

export type HelperMessage = ReadyMessage | ErrorMessage | MountedMessage | CreatedMessage;

export function encodeMessage(message: HelperMessage | ContinueMessage | HelperPlan): string {
  return JSON.stringify(message) + '\n';
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Parses one line a helper sent; anything but a known message is a ProtocolError. */
export function parseHelperMessage(line: string): HelperMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError(`helper sent garbage: ${line.slice(0, 200)}`);
  }
  const m = (value ?? {}) as { type?: unknown; message?: unknown; exitCode?: unknown; kind?: unknown; hint?: unknown };
  if (m.type === 'ready') {
    const pid = (value as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? { type: 'ready', pid } : { type: 'ready' };
  }
  if (m.type === 'mounted') return { type: 'mounted' };
  if (m.type === 'created') return { type: 'created' };
  if (m.type === 'error' && typeof m.message === 'string' && typeof m.exitCode === 'number' && Number.isInteger(m.exitCode)) {
    return {
      type: 'error',
      message: m.message,
      exitCode: m.exitCode,
      ...(m.kind === 'user' || m.kind === 'host' ? { kind: m.kind } : {}),
      ...(typeof m.hint === 'string' ? { hint: m.hint } : {}),
    };
  }
  throw new ProtocolError(`helper sent an unknown message: ${line.slice(0, 200)}`);
}

/** Parses a plan line the parent sent (the helper trusts its parent: no deep validation). */
export function parsePlan(line: string): HelperPlan {
  const plan = JSON.parse(line) as HelperPlan;
  if (plan.kind !== 'container' && plan.kind !== 'pod-init' && plan.kind !== 'exec') {
    throw new ProtocolError(`unknown plan kind ${String((plan as { kind?: unknown }).kind)}`);
  }
  return plan;
}

/** Splits a byte stream into lines: feed chunks, get the complete lines so far. */
export class LineReader {
  private pending = '';

  push(chunk: Buffer | string): string[] {
    this.pending += chunk.toString();
    const lines = this.pending.split('\n');
    this.pending = lines.pop()!;
    return lines.filter((l) => l.trim() !== '');
  }

  /** What is left without a newline at EOF (a helper that died mid-line). */
  rest(): string {
    return this.pending.trim();
  }
}
