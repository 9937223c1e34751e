/**
 * examples/blog, for real (root): the seed's pod. nginx publishes port 80 on the host and
 * proxies to busybox httpd on the pod's 127.0.0.1:2368; a third container fetches the page
 * through nginx over localhost. The test runs the example's own manifest attached, as a user
 * would, talks to it only on loopback and the pod's own address, stops it with SIGTERM, and the
 * leak check (test/support/setup-integration.ts) proves the host is clean afterwards.
 *
 * The manifest publishes hostPort 8080. When 8080 is taken on this host (or
 * MINIPOD_EXAMPLE_HOSTPORT says so), the test runs a copy that differs only in the hostPort
 * and in absolute image paths.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExplainSnapshot } from '../../src/explain/snapshot.js';
import { MINIPOD, REPO, isRoot, makeTestEnv, minipodSync, networkSkipReason, type TestEnv } from '../support/minipod.js';

const EXAMPLE = path.join(REPO, 'examples/blog/pod.yaml');
const MANIFEST_PORT = 8080;
/** The blog page's heading, written by the pod's init container and served by the app. */
const MARKER = '<h1>The minipod blog</h1>';

const skipReason = networkSkipReason();
if (skipReason) console.warn(`examples/blog test skipped: ${skipReason}`);

/** An error that ends `eventually` at once instead of being retried. */
class Fatal extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(host: string, port: number, urlPath: string, userAgent: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // No keep-alive: every request is a fresh connection through portmap's DNAT.
    const req = http.get({ host, port, path: urlPath, timeout: 3000, agent: false, headers: { 'user-agent': userAgent } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout ${host}:${port}`)));
    req.on('error', reject);
  });
}

/** True when something on the host listens on, or already DNATs, this TCP port. */
async function portTaken(port: number): Promise<boolean> {
  const bound = await new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(false)));
  });
  if (bound) return true;
  try {
    return new RegExp(`--dport ${port}\\b`).test(execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  for (let port = 18180; port < 18280; port++) if (!(await portTaken(port))) return port;
  throw new Error('no free port in 18180-18279');
}

describe.skipIf(!!skipReason)('examples/blog: the seed pod (root)', () => {
  let t: TestEnv;
  let port = MANIFEST_PORT;
  let manifest = EXAMPLE;
  let child: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let output = '';
  let podIp = '';
  const ua = `minipod-example-test/${process.pid}`;
  const ipForwardBefore = isRoot ? fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() : '';

  const tail = () => `\n--- minipod output (last 4000 chars) ---\n${output.slice(-4000)}`;
  const lines = () => output.split('\n');

  /** Polls until `check` returns a value; on timeout fails with what minipod printed. */
  async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      if (child?.exitCode !== null || child?.signalCode !== null) throw new Error(`minipod exited while waiting for ${what}${tail()}`);
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        if (err instanceof Fatal) throw err;
        last = err;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}${tail()}`);
      await sleep(250);
    }
  }

  beforeAll(async () => {
    t = makeTestEnv('blog');
    // Keep the example's cgroups apart from a pod named blog a user may be running.
    t.env.MINIPOD_CGROUP_PARENT = `minipod-it-blog-${process.pid}`;
    const wanted = process.env.MINIPOD_EXAMPLE_HOSTPORT ? Number(process.env.MINIPOD_EXAMPLE_HOSTPORT) : undefined;
    if (wanted !== undefined || (await portTaken(MANIFEST_PORT))) {
      port = wanted ?? (await freePort());
      const text = fs.readFileSync(EXAMPLE, 'utf8');
      const copy = text
        .replaceAll('../../build/rootfs/', `${path.join(REPO, 'build/rootfs')}/`)
        .replace(`hostPort: ${MANIFEST_PORT}`, `hostPort: ${port}`);
      expect(copy).toContain(`hostPort: ${port}`);
      expect(copy).not.toContain('../../build/rootfs/');
      manifest = path.join(t.dir, 'pod.yaml');
      fs.writeFileSync(manifest, copy);
      console.warn(
        `examples/blog test: publishing host port ${port} instead of ${MANIFEST_PORT} (${wanted !== undefined ? 'MINIPOD_EXAMPLE_HOSTPORT' : `${MANIFEST_PORT} is taken`})`,
      );
    }
    child = spawn(MINIPOD, ['run', manifest], { env: t.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((resolve) => child!.on('exit', (code, signal) => resolve({ code, signal })));
  });

  afterAll(async () => {
    // Only if a test failed before the SIGTERM test: stop the pod the way a user would.
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!done) child.kill('SIGKILL');
    }
    if (isRoot) fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    t?.cleanup();
  }, 60_000);

  it("answers on 127.0.0.1:<hostPort> with the app's page, through nginx", async () => {
    // The first run unpacks nginx.tar into the store: allow for it.
    const reply = await eventually(`an answer on 127.0.0.1:${port}`, 60_000, async () => {
      // A server that exits (and would be restarted) means the example is broken: fail now.
      const crashed = /container (web|app) exited[^\n]*/.exec(output);
      if (crashed) throw new Fatal(`${crashed[0]}${tail()}`);
      const r = await get('127.0.0.1', port, '/?via=hostport', ua);
      return r.status === 200 ? r : undefined;
    });
    expect(reply.body, tail()).toContain(MARKER);
    // server_tokens off: nginx names itself without a version; busybox httpd sends no Server.
    expect(reply.headers.server).toBe('nginx');
  }, 90_000);

  it("writes nginx's access log line to minipod's output, prefixed web", async () => {
    // The combined format: "GET /?via=hostport HTTP/1.1" 200 <bytes> "-" "<user agent>".
    const line = await eventually("nginx's access log line for the test's request", 10_000, () =>
      lines().find((l) => /^web +\| /.test(l) && l.includes('"GET /?via=hostport HTTP/1.1" 200') && l.includes(`"${ua}"`)),
    );
    expect(line).toMatch(
      /^web +\| \d+\.\d+\.\d+\.\d+ - - \[[^\]]+\] "GET \/\?via=hostport HTTP\/1\.1" 200 \d+ "-" "minipod-example-test\/\d+"$/,
    );
    // And the app got the request from nginx over the pod's localhost.
    expect(
      lines().some((l) => /^app +\| 127\.0\.0\.1:\d+: response:200/.test(l)),
      tail(),
    ).toBe(true);
  }, 20_000);

  it('answers on the pod IP, port 80', async () => {
    const r = minipodSync(t, ['inspect', 'blog']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as {
      phase: string;
      network?: { ip?: string; ports?: { hostPort: number; containerPort: number }[] };
    };
    expect(info.phase).toBe('Running');
    expect(info.network?.ports).toEqual([expect.objectContaining({ hostPort: port, containerPort: 80 })]);
    podIp = info.network?.ip ?? '';
    expect(podIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const reply = await eventually(`an answer on ${podIp}:80`, 10_000, async () => {
      const res = await get(podIp, 80, '/?via=podip', ua);
      return res.status === 200 ? res : undefined;
    });
    expect(reply.body).toContain(MARKER);
    expect(reply.headers.server).toBe('nginx');
  }, 20_000);

  it("shows the client's fetches over the pod's localhost, and the pod in ps", async () => {
    // The client fetches every 3 s; two lines prove the loop, not a single lucky request.
    await eventually('two client lines', 20_000, () =>
      lines().filter((l) => /^client +\| GET http:\/\/127\.0\.0\.1:80\/ -> "The minipod blog" \(\d+ bytes\)$/.test(l)).length >= 2
        ? true
        : undefined,
    );
    const ps = minipodSync(t, ['ps']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(new RegExp(`^blog +Running +\\d/3 .*0\\.0\\.0\\.0:${port}->80/tcp`, 'm'));
  }, 30_000);

  it('puts each container under its memory and cpu limits', () => {
    const info = JSON.parse(minipodSync(t, ['inspect', 'blog']).stdout) as { containers: { name: string; cgroupPaths?: string[] }[] };
    for (const name of ['web', 'app', 'client']) {
      const paths = info.containers.find((c) => c.name === name)?.cgroupPaths ?? [];
      const read = (file: string) =>
        paths
          .map((p) => path.join(p, file))
          .filter((f) => fs.existsSync(f))
          .map((f) => fs.readFileSync(f, 'utf8').trim());
      // cgroup v2: memory.max / cpu.max; v1: memory.limit_in_bytes / cpu.cfs_quota_us.
      expect([...read('memory.max'), ...read('memory.limit_in_bytes')], name).toContain(String(64 * 1024 * 1024));
      const cpu = [...read('cpu.max'), ...read('cpu.cfs_quota_us')];
      expect(
        cpu.some((v) => v === '25000' || v.startsWith('25000 ')),
        `${name}: ${cpu.join(', ')}`,
      ).toBe(true);
    }
  });

  it('explain: the init and the containers share one net, ipc, uts and pid namespace, a mount namespace each, 64Mi cgroups', () => {
    const r = minipodSync(t, ['explain', 'blog', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as ExplainSnapshot;
    const live = s.members.filter((m) => m.process);
    expect(live.map((m) => m.name)).toEqual(['init', 'web', 'app', 'client']);
    // The init container ran and ended: no process, and explain says so.
    expect(s.members.find((m) => m.name === 'setup')).toMatchObject({
      kind: 'initContainer',
      process: null,
      recorded: { state: 'terminated', exitCode: 0 },
    });
    const inode = (pid: number, type: string) => Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/${type}`))![1]);
    for (const type of ['net', 'ipc', 'uts', 'pid']) {
      const groups = s.namespaces.filter((g) => g.type === type);
      expect(
        groups.map((g) => [g.scope, g.members.join(',')]),
        type,
      ).toEqual([['pod', 'init,web,app,client']]);
      for (const m of live) expect(inode(m.process!.pid, type), `${m.name} ${type}`).toBe(groups[0]!.inode);
    }
    const mnts = s.namespaces.filter((g) => g.type === 'mnt');
    expect(mnts.map((g) => [g.scope, g.members.join(',')])).toEqual(live.map((m) => ['private', m.name]));
    for (const m of live) expect(inode(m.process!.pid, 'mnt')).toBe(mnts.find((g) => g.members[0] === m.name)!.inode);
    for (const name of ['web', 'app', 'client']) {
      const m = live.find((x) => x.name === name)!;
      expect(m.cgroup?.limits.memoryMaxBytes, name).toBe(64 * 1024 * 1024);
      expect(m.cgroup?.limits.cpuQuotaUs, name).toBe(25_000);
      expect(m.cgroup?.usage.memoryCurrentBytes, name).toBeGreaterThan(0);
    }
    expect(s.network.ports).toEqual([
      expect.objectContaining({ container: 'web', hostPort: port, containerPort: 80, dnat: true, listening: true }),
    ]);
    expect(s.network.ip).toBe(podIp);
    expect(s.differences).toEqual([]);
    const text = minipodSync(t, ['explain', 'blog']).stdout;
    expect(text).toContain('init, web, app and client are 4 ordinary processes');
    const svg = minipodSync(t, ['explain', 'blog', '--format', 'svg']).stdout;
    expect(svg).toContain('<svg');
  });

  it('stops on SIGTERM with status 143 and leaves no pod state', async () => {
    child!.kill('SIGTERM');
    // terminationGracePeriodSeconds is 5 in the manifest.
    const end = await Promise.race([exited, sleep(30_000).then(() => undefined)]);
    expect(end, `minipod did not exit within 30 s of SIGTERM${tail()}`).toBeDefined();
    // 143 = 128 + SIGTERM: stopped by a signal with no container failed.
    expect([0, 143], tail()).toContain(end!.code);
    expect(output).toContain('SIGTERM: stopping pod blog');
    expect(fs.readdirSync(path.join(t.env.MINIPOD_RUN_DIR!, 'pods'))).toEqual([]);
    expect(fs.readdirSync(path.join(t.env.MINIPOD_LIB_DIR!, 'pods'))).toEqual([]);
    // Nothing answers on the published port any more (the pod IP is not probed: with the
    // bridge gone that traffic would leave through the host's default route).
    await expect(get('127.0.0.1', port, '/', ua)).rejects.toThrow();
  }, 40_000);
});
