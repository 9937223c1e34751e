import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, tcpConnect } from '../../../src/probes/net-check.js';
import { runHandler } from '../../../src/probes/hooks.js';

describe('httpGet and tcpSocket checks', () => {
  let server: http.Server;
  let port: number;
  const seen: http.IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      const status = Number(req.url!.slice(1)) || 200;
      if (req.url === '/slow') return; // never answers
      res.writeHead(status).end('body');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const check = (path: string, headers: { name: string; value: string }[] = []) =>
    httpGet({ host: '127.0.0.1', port, path, scheme: 'HTTP', httpHeaders: headers }, AbortSignal.timeout(2000));

  it('counts 200..399 as success and the rest as failure', async () => {
    expect((await check('/200')).success).toBe(true);
    expect((await check('/302')).success).toBe(true);
    expect((await check('/399')).success).toBe(true);
    expect(await check('/404')).toEqual({ success: false, message: 'HTTP probe failed with statuscode: 404' });
    expect((await check('/500')).success).toBe(false);
  });

  it("sends kubelet's headers, replaced by the manifest's", async () => {
    seen.length = 0;
    await check('/200', [
      { name: 'X-Probe', value: 'yes' },
      { name: 'user-agent', value: 'mine' },
    ]);
    expect(seen[0]!['x-probe']).toBe('yes');
    expect(seen[0]!['user-agent']).toBe('mine');
    expect(seen[0]!.host).toBe(`127.0.0.1:${port}`);
  });

  it('fails on a refused connection and on a timeout', async () => {
    const refused = await httpGet({ host: '127.0.0.1', port: 1, path: '/', scheme: 'HTTP', httpHeaders: [] }, AbortSignal.timeout(2000));
    expect(refused.success).toBe(false);
    expect(refused.message).toMatch(/ECONNREFUSED/);
    const slow = await httpGet({ host: '127.0.0.1', port, path: '/slow', scheme: 'HTTP', httpHeaders: [] }, AbortSignal.timeout(100));
    expect(slow.success).toBe(false);
  });

  it('tcpSocket succeeds when it can connect', async () => {
    expect(await tcpConnect({ host: '127.0.0.1', port }, AbortSignal.timeout(2000))).toEqual({ success: true });
    const r = await tcpConnect({ host: '127.0.0.1', port: 1 }, AbortSignal.timeout(2000));
    expect(r.success).toBe(false);
  });
});

describe('runHandler', () => {
  it("returns the runner's result", async () => {
    const r = await runHandler({ exec: { command: ['true'] } }, async () => ({ success: true }), 1000);
    expect(r).toEqual({ success: true });
  });

  it('fails at the deadline and aborts the runner', async () => {
    let signal: AbortSignal | undefined;
    const started = Date.now();
    const r = await runHandler(
      { exec: { command: ['sleep', '9'] } },
      (_h, o) => {
        signal = o.signal;
        return new Promise(() => {});
      },
      100,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r.success).toBe(false);
    expect(r.message).toBe('exec [sleep 9] timed out after 0.1s');
    expect(signal!.aborted).toBe(true);
  });

  it('turns a runner error into a failure', async () => {
    const r = await runHandler(
      { tcpSocket: { port: 1 } },
      async () => {
        throw new Error('no route');
      },
      1000,
    );
    expect(r).toEqual({ success: false, message: 'no route' });
  });
});
