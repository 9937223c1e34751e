/**
 * bin/minipod-oci for real (root): runc's life cycle on busybox bundles, limits from
 * config.json enforced by the kernel, a failed create leaving nothing, the hooks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, waitFor } from '../support/minipod.js';
import { makeOciEnv, type OciEnv } from '../support/oci.js';

const suite = isRoot ? describe : describe.skip;

function stateOf(env: OciEnv, id: string): { status: string; pid: number; bundle: string } {
  const r = env.oci(['state', id]);
  if (r.code !== 0) throw new Error(r.out);
  return JSON.parse(r.out);
}

suite('minipod-oci', () => {
  let env: OciEnv;
  beforeAll(() => {
    env = makeOciEnv('runtime');
  });
  afterAll(() => env?.cleanup());

  it('create leaves the init waiting; start runs it; kill and delete end it', async () => {
    const b = env.bundle('life', ['sh', '-c', 'echo started as $$ in $(hostname); exec sleep 60']);
    const pidFile = path.join(env.dir, 'life.pid');
    const created = env.oci(['create', '--bundle', b, '--pid-file', pidFile, 'life']);
    expect(created.code, created.out).toBe(0);
    const s = stateOf(env, 'life');
    expect(s.status).toBe('created');
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(String(s.pid));
    expect(s.bundle).toBe(b);
    expect(env.oci(['start', 'life']).code).toBe(0);
    expect(stateOf(env, 'life').status).toBe('running');
    const out = await waitFor('output', () =>
      fs
        .readdirSync(env.dir)
        .filter((f) => f.startsWith('out-'))
        .map((f) => fs.readFileSync(path.join(env.dir, f), 'utf8'))
        .find((t) => t.includes('started as')),
    );
    // PID 1 of its own PID namespace, with the spec's hostname.
    expect(out).toContain('started as 1 in minipod');
    expect(env.oci(['start', 'life']).out).toContain('cannot start an already running container');
    expect(env.oci(['delete', 'life']).out).toContain('cannot delete container life that is not stopped: running');
    const list = JSON.parse(env.oci(['list', '--format', 'json']).out);
    expect(list.map((c: { id: string }) => c.id)).toContain('life');
    expect(env.oci(['kill', 'life', 'KILL']).code).toBe(0);
    await waitFor('stopped', () => stateOf(env, 'life').status === 'stopped');
    expect(env.oci(['kill', 'life', '9']).out).toContain('container not running');
    expect(env.oci(['delete', 'life']).code).toBe(0);
    expect(env.oci(['state', 'life']).out).toContain('container life does not exist');
    expect(fs.existsSync('/sys/fs/cgroup/pids/minipod-oci/life')).toBe(false);
  });

  it('run waits and exits with the container status', () => {
    const b = env.bundle('exit', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    const r = env.oci(['run', '--bundle', b, 'exit3']);
    expect(r.code).toBe(3);
    expect(r.out).toContain('out');
    expect(r.out).toContain('err');
    expect(env.oci(['state', 'exit3']).code).toBe(1);
  });

  it('enforces memory and pids limits from config.json', () => {
    const mem = env.bundle(
      'mem',
      ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; dd if=/dev/zero of=/dev/null bs=128M count=1'],
      (c) => {
        c.linux.resources.memory = { limit: 48 * 1024 * 1024, swap: 48 * 1024 * 1024 };
      },
    );
    const m = env.oci(['run', '--bundle', mem, 'mem']);
    expect(m.out).toContain(String(48 * 1024 * 1024));
    expect(m.code).toBe(137); // The OOM killer's SIGKILL.
    const pids = env.bundle('pids', ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>&1; wait; echo done'], (c) => {
      c.linux.resources.pids = { limit: 4 };
    });
    const p = env.oci(['run', '--bundle', pids, 'pids']);
    expect(p.out).toMatch(/can't fork|Resource temporarily unavailable/);
  });

  it('a failed create leaves nothing, and names the field it refuses', () => {
    const missing = env.bundle('missing', ['/no/such/program']);
    const r = env.oci(['create', '--bundle', missing, 'missing']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no\/such\/program/);
    expect(fs.existsSync(path.join(env.root, 'missing'))).toBe(false);
    expect(fs.existsSync('/sys/fs/cgroup/memory/minipod-oci/missing')).toBe(false);
    const rdt = env.bundle('rdt', ['true'], (c) => {
      c.linux.intelRdt = { closID: 'x' };
    });
    expect(env.oci(['create', '--bundle', rdt, 'rdt']).out).toContain('config.json: linux.intelRdt: not supported by minipod-oci');
    expect(fs.existsSync(path.join(env.root, 'rdt'))).toBe(false);
  });

  it('runs every kind of hook with the state on stdin', () => {
    const marks = path.join(env.dir, 'hook-marks');
    fs.mkdirSync(marks);
    const hook = (kind: string, dir = marks): object => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${kind}.json`] });
    const b = env.bundle('hooks', ['sh', '-c', 'ls /hooks-in-container; echo ran'], (c) => {
      c.hooks = {
        prestart: [hook('prestart')],
        createRuntime: [hook('createRuntime')],
        createContainer: [hook('createContainer')],
        // Run inside the container, after pivot_root: its path and output are the container's.
        startContainer: [
          { path: '/bin/sh', args: ['sh', '-c', 'mkdir -p /hooks-in-container && cat > /hooks-in-container/startContainer.json'] },
        ],
        poststart: [hook('poststart')],
        poststop: [hook('poststop')],
      };
    });
    const r = env.oci(['run', '--bundle', b, 'hooks']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('startContainer.json');
    for (const kind of ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']) {
      const state = JSON.parse(fs.readFileSync(path.join(marks, `${kind}.json`), 'utf8'));
      expect(state).toMatchObject({ id: 'hooks', bundle: b });
    }
    expect(JSON.parse(fs.readFileSync(path.join(marks, 'poststop.json'), 'utf8')).status).toBe('stopped');
    expect(JSON.parse(fs.readFileSync(path.join(marks, 'createRuntime.json'), 'utf8')).pid).toBeGreaterThan(0);
  });

  it('applies the process and linux settings: rlimits, umask, oom_score_adj, names, sysctl, read-only root, masks, caps, user', () => {
    const b = env.bundle(
      'settings',
      [
        'sh',
        '-c',
        'ulimit -n; umask; cat /proc/self/oom_score_adj; hostname; cat /proc/sys/kernel/domainname; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ' +
          'touch /x 2>&1; ls -la /proc/keys | cut -c1; id -u; id -G; grep CapBnd /proc/self/status',
      ],
      (c) => {
        c.root.readonly = true;
        c.hostname = 'h1';
        c.domainname = 'd1';
        c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
        c.process.user = { uid: 1000, gid: 1000, umask: 0o027, additionalGids: [5, 6] };
        c.process.oomScoreAdj = 123;
        c.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '80' };
        c.process.capabilities = { bounding: ['CAP_KILL'], effective: [], permitted: [], inheritable: [] };
      },
    );
    const r = env.oci(['run', '--bundle', b, 'settings']);
    expect(r.code, r.out).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.slice(0, 6)).toEqual(['321', '0027', '123', 'h1', 'd1', '80']);
    expect(r.out).toMatch(/touch: \/x: Read-only file system/);
    expect(r.out).toContain('\nc\n'); // /proc/keys masked by /dev/null (runc spec's maskedPaths)
    expect(r.out).toContain('\n1000\n1000 5 6\n');
    expect(r.out).toContain('CapBnd:\t0000000000000020');
  });

  it('joins a namespace by path, kills every process with --all, deletes a running one with --force', async () => {
    const a = env.bundle('ns-a', ['sh', '-c', 'hostname; sleep 60 & sleep 60']);
    expect(env.oci(['create', '--bundle', a, 'ns-a']).code).toBe(0);
    expect(env.oci(['start', 'ns-a']).code).toBe(0);
    const pidA = stateOf(env, 'ns-a').pid;
    const b = env.bundle('ns-b', ['sh', '-c', 'echo b-in $(hostname); sleep 60'], (c) => {
      delete c.hostname;
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) =>
        n.type === 'uts' ? { type: 'uts', path: `/proc/${pidA}/ns/uts` } : n,
      );
    });
    const rb = env.oci(['run', '--detach', '--bundle', b, 'ns-b']);
    expect(rb.code, rb.out).toBe(0);
    expect(fs.readlinkSync(`/proc/${stateOf(env, 'ns-b').pid}/ns/uts`)).toBe(fs.readlinkSync(`/proc/${pidA}/ns/uts`));
    expect(env.oci(['list']).out).toMatch(/^ID +PID +STATUS +BUNDLE +CREATED +OWNER\n/);
    expect(env.oci(['kill', '--all', 'ns-a', 'KILL']).code).toBe(0);
    await waitFor('ns-a stopped', () => stateOf(env, 'ns-a').status === 'stopped');
    expect(env.oci(['delete', 'ns-a']).code).toBe(0);
    expect(env.oci(['delete', '--force', 'ns-b']).code).toBe(0);
    expect(env.oci(['delete', '--force', 'ns-b']).code).toBe(0); // containerd calls it twice
    expect(env.oci(['list', '-q']).out).toBe('');
  });
});
