/**
 * A small gRPC health server (grpc.health.v1.Health/Check over h2c) for the grpc probe tests.
 * Written against the gRPC HTTP/2 protocol and protobuf wire format directly, independently of
 * src/probes/grpc-check.ts, so a shared misreading would have to be made twice. It answers with
 * the status set for the requested service, NOT_FOUND for a service it does not know (as
 * grpc-go's health server does), and UNIMPLEMENTED (trailers-only) for any other method.
 */
import http2 from 'node:http2';
import type net from 'node:net';

export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

export interface HealthServer {
  port: number;
  /** service name ('' is the server as a whole) -> status. */
  statuses: Map<string, number>;
  /** The service names requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** HealthCheckRequest: an empty body or exactly one field 1 (tag 0x0a) of a short string. */
function serviceOf(message: Buffer): string {
  if (message.length === 0) return '';
  if (message[0] !== 0x0a || message[1]! >= 0x80 || message.length !== 2 + message[1]!) {
    throw new Error(`unexpected HealthCheckRequest bytes ${message.toString('hex')}`);
  }
  return message.subarray(2).toString('utf8');
}

export async function startHealthServer(host = '127.0.0.1', port = 0): Promise<HealthServer> {
  const statuses = new Map<string, number>([['', ServingStatus.SERVING]]);
  const requests: string[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== '/grpc.health.v1.Health/Check' || headers['content-type'] !== 'application/grpc') {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown method' },
        { endStream: true },
      );
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const service = serviceOf(body.subarray(5, 5 + body.readUInt32BE(1)));
      requests.push(service);
      const status = statuses.get(service);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () =>
        stream.sendTrailers(status === undefined ? { 'grpc-status': '5', 'grpc-message': 'unknown%20service' } : { 'grpc-status': '0' }),
      );
      // HealthCheckResponse{status}: tag 0x08, varint; proto3 leaves out a zero status.
      const msg = status ? Buffer.from([0x08, status]) : Buffer.alloc(0);
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
      stream.end(status === undefined ? undefined : frame);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    statuses,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle h2 sessions would hold close() open.
        for (const s of sessions) s.destroy();
      }),
  };
}
