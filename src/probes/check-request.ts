/**
 * One network check as data (httpGet, tcpSocket or grpc, with its target resolved), and running
 * it from wherever the calling process is: the daemon on the host, or netns-probe-main.ts
 * inside a pod's network namespace. No minipod imports (it runs in that small process too).
 */
import { type GrpcCheck, grpcHealthCheck } from './grpc-check.js';
import { type CheckResult, type HttpCheck, type TcpCheck, httpGet, tcpConnect } from './net-check.js';

export type NetworkCheckRequest =
  | { kind: 'http'; check: HttpCheck; timeoutMs: number }
  | { kind: 'tcp'; check: TcpCheck; timeoutMs: number }
  | { kind: 'grpc'; check: GrpcCheck; timeoutMs: number };

export function runNetworkCheck(req: NetworkCheckRequest, signal: AbortSignal): Promise<CheckResult> {
  if (req.kind === 'http') return httpGet(req.check, signal);
  if (req.kind === 'tcp') return tcpConnect(req.check, signal);
  return grpcHealthCheck(req.check, req.timeoutMs, signal);
}
