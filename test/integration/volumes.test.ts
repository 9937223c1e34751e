/**
 * Issue 12's volumes, for real: a claim's data survives its pod, `volume rm` is refused while
 * a pod uses the volume, the volume verbs, ephemeral volumes go with their pod, and an image
 * volume (one layer, and several stacked by overlayfs) is readable, read-only and noexec.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, busyboxPod, isRoot, makeTestEnv, minipod, minipodSync, writeManifest, type TestEnv } from '../support/minipod.js';

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function claimPod(name: string, script: string, claim: string, extraVolumes: object[] = []): object {
  return busyboxPod(name, [['c', script]], {
    spec: {
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }, ...extraVolumes],
      containers: [
        { name: 'c', image: BUSYBOX_ROOTFS, command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      ],
    },
  });
}

describe.skipIf(!isRoot)('named volumes and image volumes (root)', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = makeTestEnv('volumes');
  });
  afterAll(() => t?.cleanup());

  it("keeps a claim's data after its pod; refuses `volume rm` while a pod uses it", async () => {
    const first = await minipod(t, [
      'run',
      '-d',
      writeManifest(t, 'w.json', claimPod('writer', 'echo kept > /data/file; sleep 300', 'db')),
    ]);
    expect(first.code, first.stderr).toBe(0);
    const data = path.join(t.env.MINIPOD_LIB_DIR!, 'volumes/db/_data');
    await waitFor(() => fs.existsSync(path.join(data, 'file')), 'the writer');
    expect(fs.statSync(data).mode & 0o777).toBe(0o777);

    const busy = minipodSync(t, ['volume', 'rm', 'db']);
    expect(busy.code).toBe(2);
    expect(busy.stderr.trim()).toBe('minipod: volume db is being used by the following pod(s): writer: volume is being used');
    expect(minipodSync(t, ['rm', '-f', 'writer']).code).toBe(0);

    const second = await minipod(t, ['run', writeManifest(t, 'r.json', claimPod('reader', 'cat /data/file', 'db'))]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/c +\| kept/);

    const inspect = minipodSync(t, ['volume', 'inspect', 'db']);
    expect(inspect.code).toBe(0);
    const [view] = JSON.parse(inspect.stdout) as { Name: string; Driver: string; Mountpoint: string; UsedBy: string[]; Origin: string }[];
    expect(view).toMatchObject({ Name: 'db', Driver: 'local', Mountpoint: data, UsedBy: [], Origin: 'pod' });

    const rm = minipodSync(t, ['volume', 'rm', 'db']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe('db\n');
    expect(fs.existsSync(path.join(t.env.MINIPOD_LIB_DIR!, 'volumes/db'))).toBe(false);
    expect(minipodSync(t, ['volume', 'rm', 'db']).code).toBe(1);
  });

  it('creates, lists, inspects and prunes volumes as podman does', () => {
    expect(minipodSync(t, ['volume', 'create', 'one', '--label', 'app=x']).stdout).toBe('one\n');
    expect(minipodSync(t, ['volume', 'create', 'two']).code).toBe(0);
    const again = minipodSync(t, ['volume', 'create', 'two']);
    expect(again.code).toBe(125);
    expect(again.stderr).toMatch(/volume with name two already exists/);
    expect(minipodSync(t, ['volume', 'create', '--ignore', 'two']).code).toBe(0);
    expect(minipodSync(t, ['volume', 'create', '../x']).code).toBe(125);

    const ls = minipodSync(t, ['volume', 'ls']);
    expect(ls.stdout).toMatch(/^DRIVER +VOLUME NAME\nlocal +one\nlocal +two\n$/);
    expect(minipodSync(t, ['volume', 'ls', '-q']).stdout).toBe('one\ntwo\n');
    const json = JSON.parse(minipodSync(t, ['volume', 'ls', '--format', 'json']).stdout) as { Name: string; Labels: object }[];
    expect(json.map((v) => v.Name)).toEqual(['one', 'two']);
    expect(json[0]!.Labels).toEqual({ app: 'x' });
    expect(minipodSync(t, ['volume', 'inspect', 'nope']).code).toBe(1);

    const prune = minipodSync(t, ['volume', 'prune', '-f']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toBe('one\ntwo\n');
    expect(minipodSync(t, ['volume', 'ls', '-q']).stdout).toBe('');
  });

  it('prune keeps what a pod uses; an ephemeral volume is made for its pod and goes with it', async () => {
    const ephemeral = {
      name: 'scratch',
      ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } },
    };
    const pod = busyboxPod('eph', [['c', 'sleep 300']], {
      spec: {
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'kept' } }, ephemeral],
        containers: [
          {
            name: 'c',
            image: BUSYBOX_ROOTFS,
            command: ['sh', '-c', 'echo x > /scratch/f; sleep 300'],
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              { name: 'scratch', mountPath: '/scratch' },
            ],
          },
        ],
      },
    });
    expect((await minipod(t, ['run', '-d', writeManifest(t, 'eph.json', pod)])).code).toBe(0);
    expect(minipodSync(t, ['volume', 'create', 'unused']).code).toBe(0);
    const eph = path.join(t.env.MINIPOD_LIB_DIR!, 'volumes/eph-scratch');
    await waitFor(() => fs.existsSync(path.join(eph, '_data/f')), 'the ephemeral volume');
    const [view] = JSON.parse(minipodSync(t, ['volume', 'inspect', 'eph-scratch']).stdout) as {
      EphemeralFor: string;
      Claim: { storage: number };
    }[];
    expect(view).toMatchObject({ EphemeralFor: 'eph', Claim: { storage: 1024 ** 3 } });

    expect(minipodSync(t, ['volume', 'prune', '-f']).stdout).toBe('unused\n');
    expect(minipodSync(t, ['volume', 'ls', '-q']).stdout).toBe('eph-scratch\nkept\n');
    expect(minipodSync(t, ['rm', '-f', 'eph']).code).toBe(0);
    expect(minipodSync(t, ['volume', 'ls', '-q']).stdout).toBe('kept\n');
    expect(minipodSync(t, ['volume', 'rm', 'kept']).code).toBe(0);
  });

  it('`volume rm -f` removes the pods using the volume first', async () => {
    expect((await minipod(t, ['run', '-d', writeManifest(t, 'f.json', claimPod('user', 'sleep 300', 'forced'))])).code).toBe(0);
    const rm = minipodSync(t, ['volume', 'rm', '-f', 'forced']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(minipodSync(t, ['ps', '-a', '--format', 'json']).stdout.trim()).toBe('[]');
    expect(fs.existsSync(path.join(t.env.MINIPOD_LIB_DIR!, 'volumes/forced'))).toBe(false);
  });

  it('gives emptyDirs their mode: 0777 and 01777 by default, emptyDir.mode when set (on disk and in memory)', async () => {
    const mounts = ['plain', 'mem', 'sticky', 'private'].map((n) => ({ name: n, mountPath: `/v/${n}` }));
    const pod = busyboxPod('edmode', [], {
      spec: {
        volumes: [
          { name: 'plain', emptyDir: {} },
          { name: 'mem', emptyDir: { medium: 'Memory' } },
          { name: 'sticky', emptyDir: { mode: 0o1777 } },
          { name: 'private', emptyDir: { medium: 'Memory', mode: 0o750 } },
        ],
        containers: [
          { name: 'c', image: BUSYBOX_ROOTFS, command: ['sh', '-c', 'for d in /v/*; do stat -c "%n %a" $d; done'], volumeMounts: mounts },
        ],
      },
    });
    const r = await minipod(t, ['run', writeManifest(t, 'edmode.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\/v\/plain 777\b/);
    expect(r.stdout).toMatch(/\/v\/mem 1777\b/);
    expect(r.stdout).toMatch(/\/v\/sticky 1777\b/);
    expect(r.stdout).toMatch(/\/v\/private 750\b/);
  });

  it.skipIf(!have('git'))('clones a gitRepo volume (git://, at a revision) and refuses a local repository', async () => {
    // A repository with two commits, served by `git daemon` on loopback.
    const repos = path.join(t.dir, 'repos');
    const work = path.join(repos, 'site');
    fs.mkdirSync(work, { recursive: true });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: work, encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(work, 'index.html'), 'first\n');
    git('add', 'index.html');
    git('commit', '-qm', 'first');
    const first = git('rev-parse', 'HEAD');
    fs.writeFileSync(path.join(work, 'index.html'), 'second\n');
    git('commit', '-qam', 'second');
    const port = 20000 + (process.pid % 20000);
    const daemon = spawn(
      'git',
      ['daemon', '--export-all', `--base-path=${repos}`, '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr', repos],
      {
        stdio: 'ignore',
      },
    );
    try {
      await waitFor(() => {
        try {
          execFileSync('git', ['ls-remote', `git://127.0.0.1:${port}/site`], { stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      }, 'git daemon');
      const mount = [{ name: 'site', mountPath: '/site' }];
      const script = 'cat /site/index.html; ls -a /site';
      const pod = busyboxPod('gitvol', [], {
        spec: {
          volumes: [{ name: 'site', gitRepo: { repository: `git://127.0.0.1:${port}/site`, revision: first, directory: '.' } }],
          containers: [{ name: 'c', image: BUSYBOX_ROOTFS, command: ['sh', '-c', script], volumeMounts: mount }],
        },
      });
      const r = await minipod(t, ['run', writeManifest(t, 'git.json', pod)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/c +\| first$/m); // the revision, not the branch's head
      expect(r.stdout).toMatch(/c +\| \.git$/m);

      // A local path reaches the host's files: git refuses the transport, the pod is not made.
      const local = busyboxPod('gitlocal', [['c', 'true']], { spec: { volumes: [{ name: 'site', gitRepo: { repository: work } }] } });
      const refused = minipodSync(t, ['run', writeManifest(t, 'gitlocal.json', local)]);
      expect(refused.code, refused.stderr).not.toBe(0);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/spec\.volumes\[0\]\.gitRepo\.repository: git clone failed: .*transport 'file' not allowed/);
      expect(minipodSync(t, ['ps', '-a']).stdout).not.toMatch(/gitlocal/);
    } finally {
      daemon.kill();
    }
  });

  it("takes env from a file an init container wrote to an emptyDir (fileKeyRef, Kubernetes' example); a missing key stops the container", async () => {
    const write = `printf "DB_ADDRESS='address'\\nREST_ENDPOINT='endpoint'\\n" > /data/config.env`;
    const fileEnv = (key: string) => ({ name: 'V', valueFrom: { fileKeyRef: { volumeName: 'config', path: 'config.env', key } } });
    const pod = (name: string, key: string) =>
      busyboxPod(name, [], {
        spec: {
          volumes: [{ name: 'config', emptyDir: {} }],
          initContainers: [
            { name: 'setup', image: BUSYBOX_ROOTFS, command: ['sh', '-c', write], volumeMounts: [{ name: 'config', mountPath: '/data' }] },
          ],
          // The consumer does not mount the volume: the runtime reads the file for it.
          containers: [{ name: 'use', image: BUSYBOX_ROOTFS, command: ['sh', '-c', 'echo "V=$V"'], env: [fileEnv(key)] }],
        },
      });
    const ok = await minipod(t, ['run', writeManifest(t, 'envfile.json', pod('envfile', 'DB_ADDRESS'))]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/use +\| V=address$/m);
    const missing = await minipod(t, ['run', writeManifest(t, 'envfile-missing.json', pod('envfile-missing', 'NOPE'))]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('env V: valueFrom.fileKeyRef: config.env in volume config has no key "NOPE"');
    minipodSync(t, ['rm', '-f', 'envfile-missing']);
  });

  it('mounts an image read-only and noexec: a rootfs tarball (one layer)', async () => {
    const pod = busyboxPod('imgvol', [], {
      spec: {
        volumes: [{ name: 'tools', image: { reference: BUSYBOX_ROOTFS, pullPolicy: 'IfNotPresent' } }],
        containers: [
          {
            name: 'c',
            image: BUSYBOX_ROOTFS,
            command: [
              'sh',
              '-c',
              'ls /tools/bin/busybox && (touch /tools/x 2>/dev/null && echo writable || echo read-only); /tools/bin/busybox true 2>/dev/null && echo exec || echo noexec; grep " /tools " /proc/mounts',
            ],
            volumeMounts: [{ name: 'tools', mountPath: '/tools' }],
          },
        ],
      },
    });
    const r = await minipod(t, ['run', writeManifest(t, 'img.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/c +\| \/tools\/bin\/busybox/);
    expect(r.stdout).toMatch(/c +\| read-only/);
    expect(r.stdout).toMatch(/c +\| noexec/);
    expect(r.stdout).toMatch(/ \/tools \S+ ro,nosuid,nodev,noexec/);
  });

  it.skipIf(!have('umoci'))('stacks an image of several layers (with a whiteout) as a read-only overlay', async () => {
    const work = path.join(t.dir, 'oci');
    fs.mkdirSync(work);
    const run = (args: string[]): void => void execFileSync('umoci', args, { cwd: work, stdio: 'ignore' });
    run(['init', '--layout', 'layout']);
    run(['new', '--image', 'layout:data']);
    run(['unpack', '--image', 'layout:data', 'bundle']);
    const rootfs = path.join(work, 'bundle/rootfs');
    fs.mkdirSync(path.join(rootfs, 'share'));
    fs.writeFileSync(path.join(rootfs, 'share/a'), 'layer-1\n');
    fs.writeFileSync(path.join(rootfs, 'share/gone'), 'x\n');
    run(['repack', '--refresh-bundle', '--image', 'layout:data', 'bundle']);
    fs.writeFileSync(path.join(rootfs, 'share/b'), 'layer-2\n');
    fs.rmSync(path.join(rootfs, 'share/gone'));
    run(['repack', '--image', 'layout:data', 'bundle']);

    const pod = busyboxPod('layers', [], {
      spec: {
        volumes: [{ name: 'd', image: { reference: `oci:${path.join(work, 'layout')}:data` } }],
        containers: [
          {
            name: 'c',
            image: BUSYBOX_ROOTFS,
            command: [
              'sh',
              '-c',
              'cat /d/share/a /d/share/b; ls /d/share; echo x > /d/share/a 2>/dev/null || echo read-only; echo done; sleep 300',
            ],
            volumeMounts: [{ name: 'd', mountPath: '/d' }],
          },
        ],
      },
    });
    const r = await minipod(t, ['run', '-d', writeManifest(t, 'layers.json', pod)]);
    expect(r.code, r.stderr).toBe(0);
    const logs = (): string => minipodSync(t, ['logs', 'layers']).stdout;
    await waitFor(() => logs().includes('done'), 'the container');
    expect(logs()).toBe('layer-1\nlayer-2\na\nb\nread-only\ndone\n');
    // Pinned while the pod's record names it.
    const id = minipodSync(t, ['images', '-q']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    const busy = minipodSync(t, ['rmi', id]);
    expect(busy.code).toBe(125);
    expect(busy.stderr).toMatch(/is in use by pod layers/);
    expect(minipodSync(t, ['rm', '-f', 'layers']).code).toBe(0);
    // The pod is gone: so is the overlay on the host, and the image may go.
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(t.env.MINIPOD_LIB_DIR!);
    expect(minipodSync(t, ['rmi', id]).code).toBe(0);
  });
});
