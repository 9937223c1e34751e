/**
 * The grpc probe: protobuf and gRPC framing checked against bytes worked out from the specs,
 * then whole calls against a health server on loopback (test/support/grpc-health-server.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  grpcFrame,
  grpcHealthCheck,
  judgeHealthResponse,
  parseGrpcFrames,
} from '../../../src/probes/grpc-check.js';
import { type HealthServer, ServingStatus, startHealthServer } from '../../support/grpc-health-server.js';

describe('grpc health messages', () => {
  it('encodes HealthCheckRequest{service} as field 1, length-delimited; "" as nothing (proto3)', () => {
    expect(encodeHealthCheckRequest('foo').toString('hex')).toBe('0a03666f6f');
    expect(encodeHealthCheckRequest('')).toHaveLength(0);
    // A 200-byte name needs a two-byte varint length: 200 = 0xc8 0x01.
    expect(encodeHealthCheckRequest('x'.repeat(200)).subarray(0, 3).toString('hex')).toBe('0ac801');
  });
  it('decodes HealthCheckResponse.status, skipping unknown fields', () => {
    expect(decodeHealthCheckResponse(Buffer.from('0801', 'hex'))).toBe(1);
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe(0);
    // field 2 varint 300, field 3 string "ab", field 4 fixed32, then status 2.
    expect(decodeHealthCheckResponse(Buffer.from('10ac021a0261622501020304' + '0802', 'hex'))).toBe(2);
    expect(() => decodeHealthCheckResponse(Buffer.from('08', 'hex'))).toThrow(/malformed/);
    expect(() => decodeHealthCheckResponse(Buffer.from('1a05ab', 'hex'))).toThrow(/truncated/);
  });
  it('frames messages with the compressed flag and a big-endian length', () => {
    expect(grpcFrame(Buffer.from('0801', 'hex')).toString('hex')).toBe('00000000020801');
    expect(parseGrpcFrames(Buffer.from('00000000020801', 'hex')).map((m) => m.toString('hex'))).toEqual(['0801']);
    expect(parseGrpcFrames(Buffer.from('0000000000', 'hex'))).toEqual([Buffer.alloc(0)]);
    expect(() => parseGrpcFrames(Buffer.from('01000000020801', 'hex'))).toThrow(/compressed/);
    expect(() => parseGrpcFrames(Buffer.from('000000000508', 'hex'))).toThrow(/truncated/);
  });
  it('judges a call as kubelet does', () => {
    const serving = grpcFrame(Buffer.from('0801', 'hex'));
    expect(judgeHealthResponse(200, '0', '', serving)).toEqual({ success: true, message: 'service healthy' });
    expect(judgeHealthResponse(200, '0', '', grpcFrame(Buffer.from('0802', 'hex')))).toEqual({
      success: false,
      message: 'service unhealthy (responded with "NOT_SERVING")',
    });
    expect(judgeHealthResponse(200, '12', 'no', Buffer.alloc(0)).message).toMatch(/does not implement the grpc health protocol/);
    expect(judgeHealthResponse(200, undefined, '', serving).success).toBe(false);
    expect(judgeHealthResponse(503, '0', '', serving).success).toBe(false);
  });
});

describe('grpc health calls over h2c', () => {
  let server: HealthServer;
  beforeAll(async () => {
    server = await startHealthServer();
  });
  afterAll(() => server.close());
  const check = (service = '', port = server.port) =>
    grpcHealthCheck({ host: '127.0.0.1', port, service }, 2000, AbortSignal.timeout(2000));

  it('succeeds on SERVING and sends the service name', async () => {
    server.statuses.set('shop.v1', ServingStatus.SERVING);
    expect(await check()).toEqual({ success: true, message: 'service healthy' });
    expect(await check('shop.v1')).toEqual({ success: true, message: 'service healthy' });
    expect(server.requests.slice(-2)).toEqual(['', 'shop.v1']);
  });
  it('fails on NOT_SERVING, on UNKNOWN (an empty response) and on an unknown service', async () => {
    server.statuses.set('down', ServingStatus.NOT_SERVING);
    server.statuses.set('unknown', ServingStatus.UNKNOWN);
    expect(await check('down')).toEqual({ success: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
    expect(await check('unknown')).toEqual({ success: false, message: 'service unhealthy (responded with "UNKNOWN")' });
    expect((await check('nope')).message).toBe('error: health rpc probe failed: rpc error: code = 5 desc = unknown service');
  });
  it('fails when nothing listens', async () => {
    const other = await startHealthServer();
    const port = other.port;
    await other.close();
    const r = await check('', port);
    expect(r.success).toBe(false);
    expect(r.message).toMatch(/failed to connect service "127.0.0.1:\d+": .*ECONNREFUSED/);
  });
});
