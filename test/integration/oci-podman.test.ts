/**
 * podman 4.3 (through conmon) with `--runtime bin/minipod-oci`: conmon calls create, start,
 * kill, delete as it calls runc, waits for the init as a subreaper, and reads its output.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, isRoot, waitFor } from '../support/minipod.js';
import { MINIPOD_OCI } from '../support/oci.js';
import { hasPodman, makePodmanEnv, PODMAN_IMAGE, type PodmanEnv } from '../support/podman.js';

const suite = isRoot && hasPodman ? describe : describe.skip;
const RUN = ['run', '--network', 'none', '--ulimit', 'nofile=1024:4096', '--ulimit', 'nproc=1024:4096'];

suite('podman with minipod-oci as its runtime', () => {
  let p: PodmanEnv;
  beforeAll(() => {
    p = makePodmanEnv('oci', MINIPOD_OCI);
    const r = spawnSync('sh', ['-c', `podman import - ${PODMAN_IMAGE} < '${BUSYBOX_ROOTFS}'`], { env: p.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`podman import: ${r.stderr}`);
  });
  afterAll(() => p?.cleanup());

  it('runs a container to its exit code, with its output', () => {
    const r = p.podman([...RUN, '--rm', PODMAN_IMAGE, 'sh', '-c', 'echo hello from $(cat /proc/1/comm); exit 7']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello from sh\n');
    expect(r.code).toBe(7);
  });

  it('runs one detached, shows its logs, stops and removes it', async () => {
    const d = p.podman([
      ...RUN,
      '-d',
      '--name',
      'web',
      PODMAN_IMAGE,
      'sh',
      '-c',
      'echo up; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done',
    ]);
    expect(d.code, d.stderr).toBe(0);
    const id = d.stdout.trim();
    await waitFor('logs', () => p.podman(['logs', 'web']).stdout.includes('up'));
    const inspect = JSON.parse(p.podman(['inspect', 'web']).stdout)[0];
    expect(inspect.State.Status).toBe('running');
    expect(inspect.OCIRuntime).toBe('minipod-oci');
    const pid = inspect.State.Pid as number;
    // conmon (a subreaper) is the init's parent: the init outlived `create`.
    const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(fs.readFileSync(`/proc/${ppid}/comm`, 'utf8').trim()).toBe('conmon');
    const stop = p.podman(['stop', '-t', '5', 'web']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(p.podman(['logs', 'web']).stdout).toBe('up\nbye\n');
    expect(JSON.parse(p.podman(['inspect', 'web']).stdout)[0].State.ExitCode).toBe(0);
    expect(p.podman(['rm', 'web']).code).toBe(0);
    expect(fs.existsSync(path.join('/run/minipod-oci', id))).toBe(false);
  });

  it('runs a pod of two containers sharing its namespaces (joined by path)', () => {
    const pod = p.podman(['pod', 'create', '--name', 'pair', '--network', 'none']);
    expect(pod.code, pod.stderr).toBe(0);
    const a = p.podman([...RUN, '-d', '--pod', 'pair', '--name', 'pair-a', PODMAN_IMAGE, 'sleep', '60']);
    expect(a.code, a.stderr).toBe(0);
    const b = p.podman([
      ...RUN,
      '--rm',
      '--pod',
      'pair',
      PODMAN_IMAGE,
      'sh',
      '-c',
      'hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts',
    ]);
    expect(b.code, b.stderr).toBe(0);
    const pidA = JSON.parse(p.podman(['inspect', 'pair-a']).stdout)[0].State.Pid as number;
    const [hostname, ipc, uts] = b.stdout.trim().split('\n');
    expect(hostname).toBe('pair');
    expect(ipc).toBe(fs.readlinkSync(`/proc/${pidA}/ns/ipc`));
    expect(uts).toBe(fs.readlinkSync(`/proc/${pidA}/ns/uts`));
    expect(p.podman(['pod', 'rm', '-f', '-t', '0', 'pair']).code).toBe(0);
  });
});
