/**
 * A one-shot httpGet/tcpSocket check, run as its own Node process inside a pod's network
 * namespace: for pods without an address the host can reach (`minipod.io/network: none`).
 * argv[2] is a JSON NetnsProbeRequest; exit 0 on success, 1 on failure, the reason on stdout.
 */
import { type HttpCheck, type TcpCheck, httpGet, tcpConnect } from './net-check.js';

export type NetnsProbeRequest = { kind: 'http'; check: HttpCheck; timeoutMs: number } | { kind: 'tcp'; check: TcpCheck; timeoutMs: number };

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as NetnsProbeRequest;
  const signal = AbortSignal.timeout(req.timeoutMs);
  const r = req.kind === 'http' ? await httpGet(req.check, signal) : await tcpConnect(req.check, signal);
  if (r.message) process.stdout.write(r.message);
  process.exit(r.success ? 0 : 1);
}

void main();
