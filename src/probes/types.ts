/** What the probe state machine needs from the world: a way to run a handler, and a clock. */
import type { Handler } from '../manifest/types.js';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProbeResult {
  success: boolean;
  /** Why it failed (or the exec output), for events and `inspect`. */
  message?: string;
}

/**
 * Runs one handler (exec, httpGet or tcpSocket) once. Must stop and settle when `signal`
 * aborts (the deadline passed or the container is stopping); the caller treats a run that
 * outlives timeoutMs as failed whatever it returns later.
 */
export type ActionRunner = (handler: Handler, options: { timeoutMs: number; signal: AbortSignal }) => Promise<ProbeResult>;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Which action a handler holds, for messages: `exec [cat /tmp/ok]`, `httpGet :8080/healthz`. */
export function describeHandler(h: Handler): string {
  if (h.exec) return `exec [${h.exec.command.join(' ')}]`;
  if (h.httpGet) return `httpGet ${h.httpGet.scheme.toLowerCase()}://${h.httpGet.host ?? ''}:${h.httpGet.port}${h.httpGet.path}`;
  if (h.tcpSocket) return `tcpSocket ${h.tcpSocket.host ?? ''}:${h.tcpSocket.port}`;
  if (h.grpc) return `grpc :${h.grpc.port}${h.grpc.service ? ` service ${h.grpc.service}` : ''}`;
  return 'no action';
}
