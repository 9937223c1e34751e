/**
 * Probes and lifecycle hooks of a container: handlers (exec, httpGet, tcpSocket, and grpc for
 * probes only, as in Kubernetes), their timings, and named ports resolved against the
 * container's ports.
 */
import type { ContainerPort, ExecAction, GrpcAction, Handler, HttpGetAction, Lifecycle, Probe, TcpSocketAction } from './types.js';
import { quote } from './issues.js';
import { checkInteger, checkString, Fields, type ObjectShape } from './reader.js';
import { headerNameProblem } from './syntax.js';

/** Kubernetes' fields are int32. */
const MAX_INT32 = 2 ** 31 - 1;
const LIMITS = { argv: 4096, httpHeaders: 64 } as const;

export const LIFECYCLE_SHAPE: ObjectShape = { type: 'Lifecycle', known: ['postStart', 'preStop'] };
const HANDLER_KINDS = ['exec', 'httpGet', 'tcpSocket'] as const;
const PROBE_KINDS = [...HANDLER_KINDS, 'grpc'] as const;
export const HANDLER_SHAPE: ObjectShape = { type: 'LifecycleHandler', known: HANDLER_KINDS };
export const PROBE_SHAPE: ObjectShape = {
  type: 'Probe',
  known: [...PROBE_KINDS, 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold'],
};
export const EXEC_SHAPE: ObjectShape = { type: 'ExecAction', known: ['command'] };
export const HTTP_GET_SHAPE: ObjectShape = { type: 'HTTPGetAction', known: ['path', 'port', 'host', 'scheme', 'httpHeaders'] };
export const HEADER_SHAPE: ObjectShape = { type: 'HTTPHeader', known: ['name', 'value'] };
export const TCP_SOCKET_SHAPE: ObjectShape = { type: 'TCPSocketAction', known: ['port', 'host'] };
export const GRPC_SHAPE: ObjectShape = { type: 'GRPCAction', known: ['port', 'service'] };

export type PortResolver = (f: Fields, key: string) => number | undefined;

/** httpGet/tcpSocket `port`: a number, or the name of one of this container's ports. */
export function portResolver(ports: ContainerPort[], container: string | undefined): PortResolver {
  return (f, key) => {
    const v = f.required(key);
    if (v === undefined) return undefined;
    const path = f.at(key);
    if (typeof v === 'number') return checkInteger(f.issues, path, v, { min: 1, max: 65535 });
    const s = checkString(f.issues, path, v, 64);
    if (s === undefined) return undefined;
    const found = ports.find((p) => p.name === s);
    if (!found) {
      const of = container === undefined ? 'the container' : `container ${quote(container)}`;
      f.issues.add(path, `${quote(s)} is not the name of a port of ${of}`);
      return undefined;
    }
    return found.containerPort;
  };
}

function decodeHandler(f: Fields, resolvePort: PortResolver, kinds: readonly string[]): Handler | undefined {
  const present = kinds.filter((k) => f.has(k));
  if (present.length !== 1) {
    // An unsupported handler (sleep) is already reported by the shape check.
    if (present.length > 1 || !f.has('sleep')) {
      const got = present.length > 1 ? ` (got ${present.join(' and ')})` : '';
      const names = `${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}`;
      f.issues.add(f.path, `must specify exactly one of ${names}${got}`);
    }
    return undefined;
  }
  const h: Handler = {};
  const exec = f.object('exec', EXEC_SHAPE);
  if (exec) {
    const e = decodeExec(exec);
    if (e) h.exec = e;
  }
  const http = f.object('httpGet', HTTP_GET_SHAPE);
  if (http) {
    const g = decodeHttpGet(http, resolvePort);
    if (g) h.httpGet = g;
  }
  const tcp = f.object('tcpSocket', TCP_SOCKET_SHAPE);
  if (tcp) {
    const t = decodeTcpSocket(tcp, resolvePort);
    if (t) h.tcpSocket = t;
  }
  const grpc = kinds.includes('grpc') ? f.object('grpc', GRPC_SHAPE) : undefined;
  if (grpc) {
    const g = decodeGrpc(grpc);
    if (g) h.grpc = g;
  }
  return h.exec || h.httpGet || h.tcpSocket || h.grpc ? h : undefined;
}

/** Kubernetes: the grpc port is a number (no named ports), the service a plain string. */
function decodeGrpc(f: Fields): GrpcAction | undefined {
  const raw = f.required('port');
  const port = raw === undefined ? undefined : checkInteger(f.issues, f.at('port'), raw, { min: 1, max: 65535 });
  const service = f.string('service', 1024) ?? '';
  if (port === undefined) return undefined;
  return { port, service };
}

function decodeExec(f: Fields): ExecAction | undefined {
  if (f.required('command') === undefined) return undefined;
  const command = f.stringArray('command', LIMITS.argv);
  if (command === undefined) return undefined;
  if (command.length === 0) {
    f.issues.add(f.at('command'), 'must not be empty');
    return undefined;
  }
  return { command };
}

function decodeHttpGet(f: Fields, resolvePort: PortResolver): HttpGetAction | undefined {
  const port = resolvePort(f, 'port');
  const path = f.optionalString('path', 4096) ?? '/';
  const host = f.optionalString('host', 253);
  const scheme = f.enumOf<'HTTP' | 'HTTPS'>('scheme', ['HTTP', 'HTTPS']) ?? 'HTTP';
  const httpHeaders = f.list('httpHeaders', LIMITS.httpHeaders, (item, p) => {
    const h = Fields.open(f.issues, p, item, HEADER_SHAPE);
    if (!h) return undefined;
    const name = h.requiredString('name', 256);
    if (name !== undefined) {
      const problem = headerNameProblem(name);
      if (problem) h.issues.add(h.at('name'), `${quote(name)} ${problem}`);
    }
    const value = h.string('value', 8192) ?? '';
    return name === undefined ? undefined : { name, value };
  });
  if (port === undefined) return undefined;
  const g: HttpGetAction = { path, port, scheme, httpHeaders };
  if (host !== undefined) g.host = host;
  return g;
}

function decodeTcpSocket(f: Fields, resolvePort: PortResolver): TcpSocketAction | undefined {
  const port = resolvePort(f, 'port');
  const host = f.optionalString('host', 253);
  if (port === undefined) return undefined;
  const t: TcpSocketAction = { port };
  if (host !== undefined) t.host = host;
  return t;
}

export function decodeLifecycle(f: Fields, resolvePort: PortResolver): Lifecycle | undefined {
  const lc: Lifecycle = {};
  for (const key of ['postStart', 'preStop'] as const) {
    const h = f.object(key, HANDLER_SHAPE);
    if (!h) continue;
    const handler = decodeHandler(h, resolvePort, HANDLER_KINDS);
    if (handler) lc[key] = handler;
  }
  return lc.postStart || lc.preStop ? lc : undefined;
}

export function decodeProbe(
  f: Fields | undefined,
  resolvePort: PortResolver,
  kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe',
): Probe | undefined {
  if (!f) return undefined;
  const handler = decodeHandler(f, resolvePort, PROBE_KINDS);
  const initialDelaySeconds = f.integer('initialDelaySeconds', { min: 0, max: MAX_INT32 }) ?? 0;
  const periodSeconds = f.integer('periodSeconds', { min: 1, max: MAX_INT32 }) ?? 10;
  const timeoutSeconds = f.integer('timeoutSeconds', { min: 1, max: MAX_INT32 }) ?? 1;
  const successThreshold = f.integer('successThreshold', { min: 1, max: MAX_INT32 }) ?? 1;
  const failureThreshold = f.integer('failureThreshold', { min: 1, max: MAX_INT32 }) ?? 3;
  // Kubernetes: only readiness can need several successes; the others act on the first.
  if (kind !== 'readinessProbe' && successThreshold !== 1) {
    f.issues.add(f.at('successThreshold'), `must be 1 for a ${kind}, got ${successThreshold}`);
  }
  if (!handler) return undefined;
  return { ...handler, initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold, failureThreshold };
}
