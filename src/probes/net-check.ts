/**
 * The httpGet and tcpSocket checks themselves, as kubelet does them. No minipod imports: this
 * module also runs inside the pod's network namespace (netns-probe-main.ts).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface HttpCheck {
  host: string;
  port: number;
  path: string;
  scheme: 'HTTP' | 'HTTPS';
  httpHeaders: { name: string; value: string }[];
}

export interface TcpCheck {
  host: string;
  port: number;
}

export interface CheckResult {
  success: boolean;
  message?: string;
}

function hostHeader(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * GET; success is a status in 200..399 (redirects are not followed, so a 3xx counts as
 * success, which kubelet also reports for redirects it does not follow). HTTPS certificates
 * are not checked, as kubelet does not.
 */
export function httpGet(c: HttpCheck, signal: AbortSignal): Promise<CheckResult> {
  const headers: Record<string, string> = {
    Host: hostHeader(c.host, c.port),
    'User-Agent': 'kube-probe/minipod',
    Accept: '*/*',
  };
  // Manifest headers replace the defaults, case-insensitively (a custom Host is allowed).
  for (const h of c.httpHeaders) {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === h.name.toLowerCase()) delete headers[k];
    headers[h.name] = h.value;
  }
  const path = c.path.startsWith('/') ? c.path : `/${c.path}`;
  const lib = c.scheme === 'HTTPS' ? https : http;
  return new Promise((resolve) => {
    const req = lib.request(
      {
        host: c.host,
        port: c.port,
        path,
        method: 'GET',
        headers,
        agent: false,
        signal,
        ...(c.scheme === 'HTTPS' ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        req.destroy();
        resolve(
          status >= 200 && status < 400 ? { success: true } : { success: false, message: `HTTP probe failed with statuscode: ${status}` },
        );
      },
    );
    req.on('error', (err) => resolve({ success: false, message: `${c.scheme} GET ${c.host}:${c.port}${path}: ${err.message}` }));
    req.end();
  });
}

/** Success once a TCP connection is established; it is closed at once. */
export function tcpConnect(c: TcpCheck, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: c.host, port: c.port });
    const done = (r: CheckResult): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = (): void => done({ success: false, message: `dial tcp ${c.host}:${c.port}: timed out` });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done({ success: true }));
    socket.once('error', (err) => done({ success: false, message: `dial tcp ${c.host}:${c.port}: ${err.message}` }));
  });
}
