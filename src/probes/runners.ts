/**
 * The real ActionRunner: exec through exec's helper, httpGet/tcpSocket/grpc from the host to the
 * pod's address, as kubelet does. A pod with no address the host can reach
 * (`minipod.io/network: none`) is probed from inside its network namespace by a small Node
 * process spawned there (the supervisor's own sockets must stay in the host's namespace).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runInContainer } from '../exec/run.js';
import type { GrpcAction, HttpGetAction, TcpSocketAction } from '../manifest/types.js';
import { spawnInNamespaces } from '../namespaces/pod-namespaces.js';
import type { PodNetworkStatus } from '../network/types.js';
import type { MinipodPaths } from '../paths.js';
import { type PodState, readPodState } from '../state/pod-state.js';
import type { Syscall } from '../syscall/syscall.js';
import { type NetworkCheckRequest, runNetworkCheck } from './check-request.js';
import type { CheckResult } from './net-check.js';
import type { ActionRunner, ProbeResult } from './types.js';

const NETNS_PROBE_SCRIPT = fileURLToPath(new URL('./netns-probe-main.js', import.meta.url));

export interface ProbeTarget {
  paths: MinipodPaths;
  sys: Syscall;
  pod: string;
  container: string;
}

/** Where a network probe connects from and to. */
export type NetworkRoute = { kind: 'address'; address: string } | { kind: 'netns'; pid: number };

export function networkRoute(state: PodState, container: string): NetworkRoute {
  const network = state.network as PodNetworkStatus | undefined;
  if (network?.mode === 'host') return { kind: 'address', address: '127.0.0.1' };
  if (network?.ip) return { kind: 'address', address: network.ip };
  const pid = state.containers.find((c) => c.name === container && c.state === 'running')?.pid ?? state.init?.pid;
  if (!pid) throw new Error(`pod "${state.name}" has no running process to probe from`);
  return { kind: 'netns', pid };
}

function runInNetns(sys: Syscall, pid: number, request: NetworkCheckRequest, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    const child = spawnInNamespaces(sys, { create: [], join: { pid, namespaces: ['net'] } }, () =>
      spawn(process.execPath, [NETNS_PROBE_SCRIPT, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'], env: {} }),
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const onAbort = (): void => void child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => resolve({ success: false, message: err.message }));
    child.once('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      resolve({ success: code === 0, message: out.trim() || (code === 0 ? undefined : `probe process exited with ${code}`) });
    });
  });
}

type NetworkAction =
  { kind: 'http'; a: HttpGetAction } | { kind: 'tcp'; a: TcpSocketAction } | { kind: 'grpc'; a: GrpcAction & { host?: undefined } };

/** The check with its target filled in: the handler's host, else the pod's address. */
export function networkRequest(action: NetworkAction, host: string, timeoutMs: number): NetworkCheckRequest {
  if (action.kind === 'http') {
    const a = action.a;
    return { kind: 'http', timeoutMs, check: { host, port: a.port, path: a.path, scheme: a.scheme, httpHeaders: a.httpHeaders } };
  }
  if (action.kind === 'tcp') return { kind: 'tcp', timeoutMs, check: { host, port: action.a.port } };
  return { kind: 'grpc', timeoutMs, check: { host, port: action.a.port, service: action.a.service } };
}

async function networkCheck(t: ProbeTarget, action: NetworkAction, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  let route: NetworkRoute;
  if (action.a.host) {
    route = { kind: 'address', address: action.a.host };
  } else {
    const state = readPodState(t.paths, t.pod);
    if (!state) return { success: false, message: `pod "${t.pod}" does not exist` };
    route = networkRoute(state, t.container);
  }
  const host = route.kind === 'address' ? route.address : '127.0.0.1';
  const request = networkRequest(action, host, timeoutMs);
  if (route.kind === 'netns') return runInNetns(t.sys, route.pid, request, signal);
  return runNetworkCheck(request, signal);
}

export function actionRunner(t: ProbeTarget): ActionRunner {
  return async (handler, { timeoutMs, signal }): Promise<ProbeResult> => {
    try {
      if (handler.exec) {
        const r = await runInContainer({
          paths: t.paths,
          sys: t.sys,
          pod: t.pod,
          container: t.container,
          argv: handler.exec.command,
          timeoutMs,
          signal,
        });
        if (r.timedOut) return { success: false, message: `command timed out after ${timeoutMs / 1000}s` };
        const output = r.output.trim();
        if (r.exitCode === 0) return { success: true, message: output || undefined };
        return { success: false, message: `exit code ${r.exitCode}${output ? `: ${output}` : ''}` };
      }
      if (handler.httpGet) return await networkCheck(t, { kind: 'http', a: handler.httpGet }, timeoutMs, signal);
      if (handler.tcpSocket) return await networkCheck(t, { kind: 'tcp', a: handler.tcpSocket }, timeoutMs, signal);
      // kubelet dials the pod's IP (a grpc probe has no host field).
      if (handler.grpc) return await networkCheck(t, { kind: 'grpc', a: handler.grpc }, timeoutMs, signal);
      return { success: false, message: 'handler has no action' };
    } catch (err) {
      return { success: false, message: (err as Error).message };
    }
  };
}
