/**
 * Issue 8's acceptance, for real: images built with Debian's umoci and skopeo run in pods from
 * every kind (`oci:`, `oci-archive:`, `docker-archive:`, a tarball detected by content, a
 * registry), with the deleted file and the opaque directory's old content absent and the
 * image config applied; pull/images/rmi/prune; a tampered blob is refused with nothing left.
 * The registry is Debian's docker-registry on 127.0.0.1 (a free port, temp storage, htpasswd
 * basic auth when apache2-utils is there), stopped at the end.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, isRoot, makeTestEnv, minipod, minipodSync, writeManifest, type TestEnv } from '../support/minipod.js';

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const tools = have('umoci') && have('skopeo') && have('docker-registry');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The script every pod runs through the image's Entrypoint (`sh -c`): `args` replaces Cmd. */
const CHECK = 'echo "pwd=$(pwd) foo=$FOO"; ls /a | tr "\\n" " "; echo; ls /b | tr "\\n" " "; echo; cat /b/z';
const EXPECTED = ['pwd=/b foo=bar', 'keep', 'z', 'z'];

describe.skipIf(!isRoot || !tools)('container images (root, umoci, skopeo, docker-registry)', () => {
  let t: TestEnv;
  let work: string;
  let registry: ChildProcess | undefined;
  let port = 0;
  let auth = false;

  beforeAll(async () => {
    t = makeTestEnv('images');
    work = path.join(t.dir, 'work');
    fs.mkdirSync(work);
    // Layer 1: busybox + /a/x /a/keep /b/y; layer 2: deletes /a/x; layer 3: /b opaque with /b/z.
    run('umoci', ['init', '--layout', 'oci'], work);
    run('umoci', ['new', '--image', 'oci:app'], work);
    run('umoci', ['unpack', '--image', 'oci:app', 'bundle'], work);
    const rootfs = path.join(work, 'bundle/rootfs');
    run('tar', ['-xf', BUSYBOX_ROOTFS, '-C', rootfs]);
    fs.mkdirSync(path.join(rootfs, 'a'));
    fs.mkdirSync(path.join(rootfs, 'b'));
    fs.writeFileSync(path.join(rootfs, 'a/x'), 'x\n');
    fs.writeFileSync(path.join(rootfs, 'a/keep'), 'keep\n');
    fs.writeFileSync(path.join(rootfs, 'b/y'), 'y\n');
    run('umoci', ['repack', '--refresh-bundle', '--image', 'oci:app', 'bundle'], work);
    fs.rmSync(path.join(rootfs, 'a/x'));
    run('umoci', ['repack', '--image', 'oci:app', 'bundle'], work);
    fs.mkdirSync(path.join(work, 'l3/b'), { recursive: true });
    fs.writeFileSync(path.join(work, 'l3/b/z'), 'z\n');
    fs.writeFileSync(path.join(work, 'l3/b/.wh..wh..opq'), '');
    run('tar', ['-C', path.join(work, 'l3'), '-cf', 'l3.tar', 'b'], work);
    run('umoci', ['raw', 'add-layer', '--image', 'oci:app', 'l3.tar'], work);
    run(
      'umoci',
      [
        'config',
        '--image',
        'oci:app',
        '--tag',
        'app',
        '--config.entrypoint',
        'sh',
        '--config.entrypoint',
        '-c',
        '--config.cmd',
        'echo from-cmd',
        '--config.env',
        'FOO=bar',
        '--config.workingdir',
        '/b',
        '--config.stopsignal',
        'SIGQUIT',
      ],
      work,
    );
    run('skopeo', ['copy', '-q', 'oci:oci:app', 'docker-archive:saved.tar:test/app:1'], work);
    run('skopeo', ['copy', '-q', 'oci:oci:app', 'oci-archive:app.oci.tar:app'], work);

    port = await freePort();
    const regDir = path.join(t.dir, 'registry');
    fs.mkdirSync(regDir);
    auth = have('htpasswd');
    if (auth) run('htpasswd', ['-Bbc', path.join(regDir, 'htpasswd'), 'tester', 'secret']);
    fs.writeFileSync(
      path.join(regDir, 'config.yml'),
      [
        'version: 0.1',
        'log: {level: error}',
        `storage: {filesystem: {rootdirectory: ${regDir}/data}, delete: {enabled: true}}`,
        `http: {addr: "127.0.0.1:${port}"}`,
        ...(auth ? [`auth: {htpasswd: {realm: test, path: ${regDir}/htpasswd}}`] : []),
      ].join('\n') + '\n',
    );
    registry = spawn('docker-registry', ['serve', path.join(regDir, 'config.yml')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Credentials as `docker login` writes them, found through $REGISTRY_AUTH_FILE.
    const authFile = path.join(t.dir, 'auth.json');
    fs.writeFileSync(
      authFile,
      JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { auth: Buffer.from('tester:secret').toString('base64') } } }),
    );
    t.env.REGISTRY_AUTH_FILE = authFile;
    run(
      'skopeo',
      [
        'copy',
        '-q',
        '--dest-tls-verify=false',
        ...(auth ? ['--dest-creds', 'tester:secret'] : []),
        'oci:oci:app',
        `docker://127.0.0.1:${port}/test/app:1`,
      ],
      work,
    );
  }, 120_000);

  afterAll(async () => {
    if (registry && registry.exitCode === null) {
      const gone = new Promise((r) => registry!.once('exit', r));
      registry.kill('SIGTERM');
      await gone;
    }
    t?.cleanup();
  });

  const podWith = (name: string, image: string, extra: object = {}): string =>
    writeManifest(t, `${name}.json`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        hostNetwork: true,
        terminationGracePeriodSeconds: 5,
        containers: [{ name: 'c', image, args: [CHECK], ...extra }],
      },
    });

  const lines = (stdout: string): string[] =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('c | '))
      .map((l) => l.slice(4).trim());

  it.each([
    ['oci', () => `oci:${path.join(work, 'oci')}:app`],
    ['oci-archive', () => `oci-archive:${path.join(work, 'app.oci.tar')}:app`],
    ['docker-archive', () => `docker-archive:${path.join(work, 'saved.tar')}`],
    ['by-content', () => path.join(work, 'saved.tar')],
    ['registry', () => `127.0.0.1:${port}/test/app:1`],
  ])('runs the %s image with its layers, whiteouts and config', async (name, image) => {
    const r = await minipod(t, ['run', podWith(`img-${name}`, image())]);
    expect(r.stderr).not.toMatch(/minipod: .*(error|refus)/i);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(EXPECTED);
  });

  it('applies the image Cmd when the pod gives neither command nor args', async () => {
    const r = await minipod(t, [
      'run',
      writeManifest(t, 'cmd.json', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'img-cmd' },
        spec: { restartPolicy: 'Never', hostNetwork: true, containers: [{ name: 'c', image: `oci:${path.join(work, 'oci')}:app` }] },
      }),
    ]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['from-cmd']);
  });

  it('shares layers between kinds: one unpacked copy of each layer', () => {
    const layers = fs.readdirSync(path.join(t.env.MINIPOD_LIB_DIR!, 'images/layers/sha256')).filter((n) => !n.startsWith('.'));
    expect(layers).toHaveLength(3);
    expect(fs.readdirSync(path.join(t.env.MINIPOD_LIB_DIR!, 'images/tmp')).filter((n) => !n.endsWith('.lock'))).toEqual([]);
  });

  it('pulls, lists, refuses rmi of an image a pod uses, removes and prunes', async () => {
    const ref = `127.0.0.1:${port}/test/app:1`;
    const pulled = minipodSync(t, ['pull', ref]);
    expect(pulled.code).toBe(0);
    const id = pulled.stdout.trim();
    expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(pulled.stderr).toMatch(/already present|done/);

    const images = minipodSync(t, ['images']);
    expect(images.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/test/app\\s+1\\s+${id.slice(7, 19)}`));
    expect(images.stdout).toMatch(/docker\.io\/test\/app\s+1/); // the docker archive's RepoTag

    // A recorded pod (detached, still running) keeps its image.
    const d = await minipod(t, ['run', '-d', podWith('img-keep', ref, { command: ['sleep', '30'], args: [] })]);
    expect(d.stderr).toBe('');
    expect(d.code).toBe(0);
    minipodSync(t, ['rmi', 'docker.io/test/app:1']); // untags one of two names
    const refused = minipodSync(t, ['rmi', ref]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toMatch(/in use by pod img-keep/);
    const prune = minipodSync(t, ['image', 'prune', '-a']);
    expect(prune.code).toBe(0);
    expect(fs.readdirSync(path.join(t.env.MINIPOD_LIB_DIR!, 'images/layers/sha256'))).toHaveLength(3);
    expect(minipodSync(t, ['rm', '-f', 'img-keep']).code).toBe(0);

    const rmi = minipodSync(t, ['rmi', ref]);
    expect(rmi.stderr).toBe('');
    expect(rmi.code).toBe(0);
    expect(rmi.stdout).toContain(`Deleted: ${id}`);
    expect(minipodSync(t, ['image', 'prune', '-a']).code).toBe(0);
    const lib = path.join(t.env.MINIPOD_LIB_DIR!, 'images');
    expect(fs.readdirSync(path.join(lib, 'layers/sha256'))).toEqual([]);
    expect(fs.readdirSync(path.join(lib, 'blobs/sha256'))).toEqual([]);
    expect(minipodSync(t, ['images', '-q']).stdout).toBe('');
  });

  it('honours imagePullPolicy Never', async () => {
    const r = await minipod(t, ['run', podWith('img-never', `127.0.0.1:${port}/test/app:1`, { imagePullPolicy: 'Never' })]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/spec\.containers\[0\]\.image: .* not in the local store and imagePullPolicy is Never/);
  });

  it('refuses a tampered blob from the registry and leaves nothing half-written', () => {
    const blobs = path.join(t.dir, 'registry/data/docker/registry/v2/blobs/sha256');
    // The biggest blob is the busybox layer.
    const files = fs.readdirSync(blobs).flatMap((p) => fs.readdirSync(path.join(blobs, p)).map((h) => path.join(blobs, p, h, 'data')));
    const biggest = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
    const original = fs.readFileSync(biggest);
    const bad = Buffer.from(original);
    bad[100] = bad[100]! ^ 0xff;
    fs.writeFileSync(biggest, bad);
    try {
      const r = minipodSync(t, ['pull', `127.0.0.1:${port}/test/app:1`]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/content does not match its digest .*corrupt or tampered/);
      const lib = path.join(t.env.MINIPOD_LIB_DIR!, 'images');
      expect(fs.readdirSync(path.join(lib, 'layers/sha256')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      expect(fs.readdirSync(path.join(lib, 'tmp')).filter((n) => !n.endsWith('.lock'))).toEqual([]);
      expect(fs.readdirSync(path.join(lib, 'records/sha256'))).toEqual([]);
    } finally {
      fs.writeFileSync(biggest, original);
    }
  });
});
