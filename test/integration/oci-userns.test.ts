/**
 * bin/minipod-oci for real (root): a container in a new user namespace with the config's
 * uid/gid maps (written by the runtime), a user namespace given by path, a --root the init
 * cannot reach, a wrong map refused before anything exists, and --preserve-fds on run and exec.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, waitFor } from '../support/minipod.js';
import { makeOciEnv, MINIPOD_OCI, type OciEnv } from '../support/oci.js';

const suite = isRoot ? describe : describe.skip;

/** Host ids of the container's root; distinct per test so a leftover process is ours to find. */
const BASE = 100000;

function userns(base: number, size = 65536): (c: Record<string, any>) => void {
  return (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: base, size }];
    c.linux.gidMappings = [{ containerID: 0, hostID: base, size }];
  };
}

/**
 * Live processes whose user namespace maps container root to `base`. Zombies do not count: an
 * init reparented to the host's PID 1 (run --detach, then kill) waits there to be reaped.
 */
function processesMapping(base: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        if (fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.startsWith('Z')) return false;
        return fs.readFileSync(`/proc/${d}/uid_map`, 'utf8').trim().split(/\s+/).join(' ') === `0 ${base} 65536`;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function cgroupLeft(id: string): boolean {
  return ['pids', 'memory', 'cpu,cpuacct', 'unified'].some((h) => fs.existsSync(`/sys/fs/cgroup/${h}/minipod-oci/${id}`));
}

suite('minipod-oci: user namespaces and --preserve-fds', () => {
  let env: OciEnv;
  beforeAll(() => {
    env = makeOciEnv('userns');
    // The namespace's root must reach the bundles (the runtime chowns nothing, as the spec says).
    fs.chmodSync(env.dir, 0o755);
  });
  afterAll(() => env?.cleanup());

  /** A bundle whose root belongs to the namespace's root, as podman prepares one for --uidmap. */
  function mappedBundle(name: string, base: number, args: string[], edit?: (c: Record<string, any>) => void): string {
    const b = env.bundle(name, args, (c) => {
      userns(base)(c);
      edit?.(c);
    });
    spawnSync('chown', ['-R', `${base}:${base}`, path.join(b, 'rootfs')]);
    return b;
  }

  it('runs the init in a new user namespace with exactly the configured maps, as the configured user', async () => {
    const data = path.join(env.dir, 'data');
    fs.mkdirSync(data, { mode: 0o777 });
    fs.chmodSync(data, 0o777);
    const b = mappedBundle(
      'mapped',
      BASE,
      [
        'sh',
        '-c',
        'cat /proc/self/uid_map /proc/self/gid_map; id; echo pid $$; touch /data/made; ls /proc/1/ns >/dev/null && echo proc ok; ls /sys/class/net',
      ],
      (c) => {
        c.process.user = { uid: 1000, gid: 1000, additionalGids: [5] };
        c.mounts.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
      },
    );
    const created = env.oci(['create', '--bundle', b, 'mapped']);
    expect(created.code, created.out).toBe(0);
    const state = JSON.parse(env.oci(['state', 'mapped']).out);
    expect(state.status).toBe('created');
    // The host sees the init's maps, written from outside before it set anything up.
    const squash = (t: string) => t.trim().split(/\s+/).join(' ');
    expect(squash(fs.readFileSync(`/proc/${state.pid}/uid_map`, 'utf8'))).toBe(`0 ${BASE} 65536`);
    expect(squash(fs.readFileSync(`/proc/${state.pid}/gid_map`, 'utf8'))).toBe(`0 ${BASE} 65536`);
    expect(fs.readlinkSync(`/proc/${state.pid}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
    expect(env.oci(['start', 'mapped']).code).toBe(0);
    await waitFor('stopped', () => JSON.parse(env.oci(['state', 'mapped']).out).status === 'stopped');
    const out = fs
      .readdirSync(env.dir)
      .filter((f) => f.startsWith('out-'))
      .map((f) => fs.readFileSync(path.join(env.dir, f), 'utf8'))
      .find((t) => t.includes('uid=1000'))!;
    expect(out).toBeDefined();
    const lines = out.split('\n').map(squash);
    expect(lines).toContain(`0 ${BASE} 65536`);
    expect(out).toContain('uid=1000(user) gid=1000(user) groups=5');
    expect(out).toContain('pid 1');
    expect(out).toContain('proc ok');
    // Its own network namespace: sysfs shows only its lo.
    expect(out).toMatch(/^lo$/m);
    // What the user wrote belongs on the host to the mapped id.
    const st = fs.statSync(path.join(data, 'made'));
    expect([st.uid, st.gid]).toEqual([BASE + 1000, BASE + 1000]);
    expect(env.oci(['delete', 'mapped']).code).toBe(0);
    expect(cgroupLeft('mapped')).toBe(false);
  });

  it('run waits for an init forked as PID 1 of its pid namespace, and exits with its status', () => {
    const b = mappedBundle('status', BASE + 65536, ['sh', '-c', 'echo in $(cat /proc/self/uid_map | tr -s " "); exit 5']);
    const r = env.oci(['run', '--bundle', b, 'status']);
    expect(r.out).toContain(`in 0 ${BASE + 65536} 65536`);
    expect(r.code).toBe(5);
    expect(fs.existsSync(path.join(env.root, 'status'))).toBe(false);
    expect(processesMapping(BASE + 65536)).toEqual([]);
  });

  it('exec enters the user namespace', async () => {
    const b = mappedBundle('execd', BASE + 2 * 65536, ['sleep', '60']);
    expect(env.oci(['run', '--detach', '--bundle', b, 'execd']).code).toBe(0);
    const r = env.oci(['exec', 'execd', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`^0\\n\\s+0\\s+${BASE + 2 * 65536}\\s+65536`));
    expect(env.oci(['kill', 'execd', 'KILL']).code).toBe(0);
    await waitFor('stopped', () => JSON.parse(env.oci(['state', 'execd']).out).status === 'stopped');
    expect(env.oci(['delete', 'execd']).code).toBe(0);
    expect(processesMapping(BASE + 2 * 65536)).toEqual([]);
  });

  it('joins a user namespace given by path and makes the other namespaces inside it', async () => {
    const holder = spawn('unshare', ['--user', 'sleep', '60'], { stdio: 'ignore' });
    try {
      await waitFor('holder namespace', () => fs.readlinkSync(`/proc/${holder.pid}/ns/user`) !== fs.readlinkSync('/proc/self/ns/user'));
      const base = BASE + 3 * 65536;
      fs.writeFileSync(`/proc/${holder.pid}/uid_map`, `0 ${base} 65536\n`);
      fs.writeFileSync(`/proc/${holder.pid}/gid_map`, `0 ${base} 65536\n`);
      const b = env.bundle('joined', ['sh', '-c', 'echo map $(cat /proc/self/uid_map | tr -s " "); echo pid $$; id -u'], (c) => {
        c.linux.namespaces.push({ type: 'user', path: `/proc/${holder.pid}/ns/user` });
      });
      spawnSync('chown', ['-R', `${base}:${base}`, path.join(b, 'rootfs')]);
      const r = env.oci(['run', '--bundle', b, 'joined']);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`map 0 ${base} 65536`);
      expect(r.out).toContain('pid 1');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it.each([
    [
      'overlapping',
      (c: Record<string, any>) => c.linux.uidMappings.push({ containerID: 100, hostID: 900000, size: 10 }),
      'config.json: linux.uidMappings[1]: container ids 100-109 overlap linux.uidMappings[0]',
    ],
    [
      'too big',
      (c: Record<string, any>) => (c.linux.gidMappings[0].size = 2 ** 32 - 1),
      `config.json: linux.gidMappings[0]: hostID ${BASE + 4 * 65536} + size 4294967295 goes past the last id (4294967294)`,
    ],
  ])('refuses a wrong map (%s) with one error naming the field, leaving nothing', (name, edit, message) => {
    const id = `bad-${name.replace(' ', '-')}`;
    const b = mappedBundle(id, BASE + 4 * 65536, ['true'], edit);
    const r = env.oci(['create', '--bundle', b, id]);
    expect(r.code).toBe(1);
    expect(
      r.out
        .trim()
        .split('\n')
        .filter((l) => !l.includes('level=warning')),
    ).toEqual([`minipod-oci: ${message}`]);
    expect(fs.existsSync(path.join(env.root, id))).toBe(false);
    expect(cgroupLeft(id)).toBe(false);
    expect(processesMapping(BASE + 4 * 65536)).toEqual([]);
  });

  it('a --root below a directory only host root may traverse (0600, as the containerd shim makes /run/containerd)', () => {
    // The init has no capability over host root's directories: it gets the exec fifo as a
    // descriptor, as runc's init does, and never walks this path.
    const barred = path.join(env.dir, 'barred-root');
    fs.mkdirSync(barred);
    const root = path.join(barred, 'runc');
    fs.mkdirSync(root, { mode: 0o700 });
    fs.chmodSync(barred, 0o600);
    const b = mappedBundle('barred', BASE + 7 * 65536, ['sh', '-c', 'id -u; exit 6']);
    try {
      const r = spawnSync(MINIPOD_OCI, ['--root', root, 'run', '--bundle', b, 'barred'], { encoding: 'utf8', timeout: 30_000 });
      // (runc spec's ambient capabilities earn a warning line.)
      expect(r.stderr.split('\n').filter((l) => l && !l.includes('level=warning'))).toEqual([]);
      expect(r.stdout).toBe('0\n');
      expect(r.status).toBe(6);
      expect(fs.readdirSync(root)).toEqual([]);
    } finally {
      spawnSync(MINIPOD_OCI, ['--root', root, 'delete', '--force', 'barred']);
      fs.chmodSync(barred, 0o700);
    }
    expect(processesMapping(BASE + 7 * 65536)).toEqual([]);
  });

  it('a create that fails inside the user namespace leaves nothing either', async () => {
    const b = mappedBundle('unreachable', BASE + 5 * 65536, ['true']);
    // The namespace's root cannot reach the bundle: the helper fails at its first mount.
    fs.chmodSync(b, 0o700);
    const r = env.oci(['create', '--bundle', b, 'unreachable']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/bind the root onto itself: .*EACCES/);
    expect(fs.existsSync(path.join(env.root, 'unreachable'))).toBe(false);
    expect(cgroupLeft('unreachable')).toBe(false);
    await waitFor('no process left', () => processesMapping(BASE + 5 * 65536).length === 0);
  });

  /** Runs minipod-oci with fds 3 and 4 open on files; returns what landed in them. */
  function withFds(name: string, args: string[]): { code: number; out: string; fd3: string; fd4: string } {
    const files = ['fd3', 'fd4', 'out'].map((f) => path.join(env.dir, `${name}-${f}`));
    const fds = files.map((f) => fs.openSync(f, 'w'));
    try {
      const r = spawnSync(MINIPOD_OCI, ['--root', env.root, ...args], {
        stdio: ['ignore', fds[2]!, fds[2]!, fds[0]!, fds[1]!],
        timeout: 30_000,
      });
      const [fd3, fd4, out] = files.map((f) => fs.readFileSync(f, 'utf8'));
      return { code: r.status ?? -1, out: out!, fd3: fd3!, fd4: fd4! };
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
  }

  it('--preserve-fds 2 gives the container fds 3 and 4 of the runtime', () => {
    const b = env.bundle('fds', ['sh', '-c', 'echo three >&3; echo four >&4; ls /proc/self/fd | wc -l']);
    const r = withFds('fds', ['run', '--preserve-fds', '2', '--bundle', b, 'fds']);
    expect(r.code, r.out).toBe(0);
    expect(r.fd3).toBe('three\n');
    expect(r.fd4).toBe('four\n');
    // 0-4 and ls's own directory: nothing else leaked in.
    expect(r.out.trim().split('\n').at(-1)!.trim()).toBe('6');
    // Without the flag, nothing passes.
    const none = withFds('nofds', ['run', '--bundle', b, 'nofds']);
    expect(none.out).toMatch(/Bad file descriptor|can't create/);
    expect(none.fd3).toBe('');
  });

  it('--preserve-fds works in a user namespace and on exec', async () => {
    const b = mappedBundle('fds-userns', BASE + 6 * 65536, ['sh', '-c', 'echo mapped >&3; exec sleep 60']);
    const r = withFds('fds-userns', ['run', '--detach', '--preserve-fds', '1', '--bundle', b, 'fds-userns']);
    expect(r.code, r.out).toBe(0);
    await waitFor('fd 3 written', () => fs.readFileSync(path.join(env.dir, 'fds-userns-fd3'), 'utf8') === 'mapped\n');
    const e = withFds('exec', ['exec', '--preserve-fds', '2', 'fds-userns', 'sh', '-c', 'echo e3 >&3; echo e4 >&4']);
    expect(e.code, e.out).toBe(0);
    expect([e.fd3, e.fd4]).toEqual(['e3\n', 'e4\n']);
    expect(env.oci(['delete', '--force', 'fds-userns']).code).toBe(0);
    // Beyond what the caller passed (and what Node itself opened at start-up): refused, nothing left.
    expect(withFds('fds-missing', ['run', '--preserve-fds', '60', '--bundle', b, 'fds-missing']).out).toMatch(
      /--preserve-fds 60: fd \d+ is not open \(the caller passes fds 3..62\)/,
    );
    expect(fs.existsSync(path.join(env.root, 'fds-missing'))).toBe(false);
  });
});
