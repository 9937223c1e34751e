/**
 * A one-shot httpGet/tcpSocket/grpc check, run as its own Node process inside a pod's network
 * namespace: for pods without an address the host can reach (`minipod.io/network: none`).
 * argv[2] is a JSON NetworkCheckRequest; exit 0 on success, 1 on failure, the reason on stdout.
 */
import { type NetworkCheckRequest, runNetworkCheck } from './check-request.js';

export type NetnsProbeRequest = NetworkCheckRequest;

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as NetworkCheckRequest;
  const signal = AbortSignal.timeout(req.timeoutMs);
  const r = await runNetworkCheck(req, signal);
  if (r.message) process.stdout.write(r.message);
  process.exit(r.success ? 0 : 1);
}

void main();
