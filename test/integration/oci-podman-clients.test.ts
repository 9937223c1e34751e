/**
 * podman 4.3 (through conmon) with `--runtime bin/minipod-oci`, the client half: `podman exec`
 * (conmon calls `exec --detach --pid-file --process`, waits for the process as a subreaper and
 * relays its output and exit code), `podman exec -t` (the pty master over the console socket),
 * and a pod of two containers in the pod's network namespace talking over localhost.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, isRoot } from '../support/minipod.js';
import { MINIPOD_OCI } from '../support/oci.js';
import { hasPodman, makePodmanEnv, PODMAN_IMAGE, type PodmanEnv } from '../support/podman.js';

const suite = isRoot && hasPodman ? describe : describe.skip;
const LIMITS = ['--ulimit', 'nofile=1024:4096', '--ulimit', 'nproc=1024:4096'];

function netns(pid: number): number {
  return fs.statSync(`/proc/${pid}/ns/net`).ino;
}

suite('podman exec and pods with minipod-oci as the runtime', () => {
  let p: PodmanEnv;
  beforeAll(() => {
    p = makePodmanEnv('clients', MINIPOD_OCI);
    const r = spawnSync('sh', ['-c', `podman import - ${PODMAN_IMAGE} < '${BUSYBOX_ROOTFS}'`], { env: p.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`podman import: ${r.stderr}`);
    const d = p.podman(['run', '-d', '--network', 'none', ...LIMITS, '--name', 'box', PODMAN_IMAGE, 'sleep', '300']);
    if (d.code !== 0) throw new Error(`podman run -d: ${d.stderr}`);
  });
  afterAll(() => p?.cleanup());

  it('podman exec: output on each stream, the exit code, in the container', () => {
    const r = p.podman(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; cat /proc/1/comm; exit 3']);
    expect(r.stdout).toBe('out\nsleep\n');
    expect(r.stderr).toBe('err\n');
    expect(r.code).toBe(3);
    const env = p.podman(['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000', 'box', 'sh', '-c', 'echo $FOO $(pwd) $(id -u)']);
    expect(env.stdout).toBe('bar /tmp 1000\n');
  });

  it("podman exec of a missing command: podman's 127", () => {
    const r = p.podman(['exec', 'box', 'no-such-program']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('executable file not found');
  });

  it('podman exec -t: a terminal of the container devpts, through the console socket', () => {
    const r = p.podman(['exec', '-t', 'box', 'sh', '-c', 'tty; test -t 0 && echo stdin-is-a-tty; exit 2']);
    expect(r.stdout.split('\r\n')).toEqual(['/dev/pts/0', 'stdin-is-a-tty', '']);
    expect(r.code).toBe(2);
  });

  it('podman exec -d: the detached process runs in the container until it ends', async () => {
    expect(p.podman(['exec', '-d', 'box', 'sh', '-c', 'echo detached > /tmp/d; sleep 1']).code).toBe(0);
    expect(p.podman(['exec', 'box', 'sh', '-c', 'sleep 0.3; cat /tmp/d']).stdout).toBe('detached\n');
  });

  it('a pod of two containers: they share its network namespace and reach each other on localhost', () => {
    expect(p.podman(['pod', 'create', '--name', 'duo', '--network', 'none']).code).toBe(0);
    const web = p.podman([
      'run',
      '-d',
      ...LIMITS,
      '--pod',
      'duo',
      '--name',
      'duo-web',
      PODMAN_IMAGE,
      'sh',
      '-c',
      'mkdir /w && echo pod-ok > /w/index.html && exec httpd -f -p 8080 -h /w',
    ]);
    expect(web.code, web.stderr).toBe(0);
    const client = p.podman([
      'run',
      '-d',
      ...LIMITS,
      '--pod',
      'duo',
      '--name',
      'duo-client',
      PODMAN_IMAGE,
      'sh',
      '-c',
      'for i in $(seq 100); do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.05; done; exit 1',
    ]);
    expect(client.code, client.stderr).toBe(0);
    expect(p.podman(['wait', 'duo-client']).stdout.trim()).toBe('0');
    expect(p.podman(['logs', 'duo-client']).stdout).toBe('pod-ok\n');
    const pid = (name: string): number => Number(p.podman(['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim());
    const infra = p.podman(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'duo']).stdout.trim();
    expect(netns(pid('duo-web'))).toBe(netns(pid(infra)));
    expect(netns(pid('duo-web'))).not.toBe(netns(process.pid));
    const rm = p.podman(['pod', 'rm', '-f', '-t', '0', 'duo']);
    expect(rm.code, rm.stderr).toBe(0);
  });
});
