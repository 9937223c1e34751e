/**
 * The grpc probe: one unary grpc.health.v1.Health/Check call over cleartext HTTP/2 (h2c), as
 * kubelet's prober makes it. Node's own http2 module carries it; the two messages are tiny, so
 * they are encoded by hand (protobuf wire format) rather than with a gRPC library:
 *   HealthCheckRequest  { string service = 1; }
 *   HealthCheckResponse { ServingStatus status = 1; }  UNKNOWN 0, SERVING 1, NOT_SERVING 2,
 *                                                      SERVICE_UNKNOWN 3
 * Each message travels in a gRPC length-prefixed frame: 1 byte compressed flag, 4 bytes
 * big-endian length, the message. The call's outcome is the `grpc-status` trailer (0 is OK).
 * No minipod imports: this module also runs inside a pod's network namespace.
 */
import http2 from 'node:http2';
import type { CheckResult } from './net-check.js';

export interface GrpcCheck {
  host: string;
  port: number;
  service: string;
}

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const SERVING_STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
const SERVING = 1;
/** A health response is a few bytes; anything much larger is not one. */
const MAX_RESPONSE_BYTES = 64 * 1024;

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** HealthCheckRequest: field 1 (length-delimited) only when the service is not empty (proto3). */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  throw new Error('malformed varint in the health response');
}

/**
 * HealthCheckResponse.status; 0 (UNKNOWN) when absent, as proto3 reads it. Unknown fields are
 * skipped by their wire type, as any protobuf reader must.
 */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let status = 0;
  let at = 0;
  while (at < buf.length) {
    const key = readVarint(buf, at);
    at = key.next;
    const field = Math.floor(key.value / 8);
    const wire = key.value & 7;
    if (wire === 0) {
      const v = readVarint(buf, at);
      at = v.next;
      if (field === 1) status = v.value;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const len = readVarint(buf, at);
      at = len.next + len.value;
    } else throw new Error(`unsupported protobuf wire type ${wire} in the health response`);
    if (at > buf.length) throw new Error('truncated health response');
  }
  return status;
}

/** One uncompressed gRPC length-prefixed message. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The messages of a response body; a compressed one (we never offer compression) is an error. */
export function parseGrpcFrames(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5) throw new Error('truncated gRPC message header');
    if (body[at] !== 0) throw new Error('compressed gRPC message (none was offered)');
    const len = body.readUInt32BE(at + 1);
    if (at + 5 + len > body.length) throw new Error('truncated gRPC message');
    out.push(body.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return out;
}

function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What kubelet says for a call that ended with this grpc-status (12 is UNIMPLEMENTED). */
function rpcFailure(code: number, message: string): string {
  if (code === 12) return `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${message}`;
  if (code === 4) return `timeout: health rpc did not complete within the timeout: ${message}`;
  return `error: health rpc probe failed: rpc error: code = ${code} desc = ${message}`;
}

/** Judges a finished call: the HTTP status, grpc-status (trailers or trailers-only headers), the body. */
export function judgeHealthResponse(httpStatus: number, grpcStatus: string | undefined, grpcMessage: string, body: Buffer): CheckResult {
  if (httpStatus !== 200) return { success: false, message: `error: health rpc probe failed: HTTP status ${httpStatus}` };
  if (grpcStatus === undefined) return { success: false, message: 'error: health rpc probe failed: no grpc-status in the response' };
  const code = Number(grpcStatus);
  if (code !== 0) return { success: false, message: rpcFailure(code, decodeURIComponent(grpcMessage)) };
  const messages = parseGrpcFrames(body);
  if (messages.length !== 1) return { success: false, message: `error: health rpc probe failed: ${messages.length} response messages` };
  const status = decodeHealthCheckResponse(messages[0]!);
  if (status === SERVING) return { success: true, message: 'service healthy' };
  const name = SERVING_STATUS_NAMES[status] ?? String(status);
  return { success: false, message: `service unhealthy (responded with "${name}")` };
}

export function grpcHealthCheck(c: GrpcCheck, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  const target = authority(c.host, c.port);
  return new Promise((resolve) => {
    let settled = false;
    const session = http2.connect(`http://${target}`);
    const done = (r: CheckResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      session.destroy();
      resolve(r);
    };
    const onAbort = (): void =>
      done({ success: false, message: `timeout: health rpc did not complete within ${timeoutMs / 1000}s (${target})` });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    let connected = false;
    session.on('connect', () => (connected = true));
    // Before the connection is up, the stream's error is the connect error (as its cause).
    const connectFailed = (err: Error): void => {
      const cause = (err as Error & { cause?: Error }).cause;
      done({ success: false, message: `error: failed to connect service "${target}": ${(cause ?? err).message}` });
    };
    session.on('error', connectFailed);
    const req = session.request({
      ':method': 'POST',
      ':path': HEALTH_CHECK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'kube-probe/minipod',
      'grpc-timeout': `${Math.max(1, Math.round(timeoutMs))}m`,
    });
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('response', (headers) => {
      httpStatus = Number(headers[':status'] ?? 0);
      // A trailers-only response carries grpc-status in its headers.
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
      if (headers['grpc-message'] !== undefined) grpcMessage = String(headers['grpc-message']);
    });
    req.on('trailers', (trailers) => {
      if (trailers['grpc-status'] !== undefined) grpcStatus = String(trailers['grpc-status']);
      if (trailers['grpc-message'] !== undefined) grpcMessage = String(trailers['grpc-message']);
    });
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_RESPONSE_BYTES) done({ success: false, message: 'error: health rpc probe failed: response too large' });
      else chunks.push(d);
    });
    req.on('error', (err) =>
      connected ? done({ success: false, message: `error: health rpc probe failed: ${err.message}` }) : connectFailed(err),
    );
    req.on('end', () => {
      try {
        done(judgeHealthResponse(httpStatus, grpcStatus, grpcMessage, Buffer.concat(chunks)));
      } catch (err) {
        done({ success: false, message: `error: health rpc probe failed: ${(err as Error).message}` });
      }
    });
    req.end(grpcFrame(encodeHealthCheckRequest(c.service)));
  });
}
