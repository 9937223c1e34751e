/**
 * Probes and lifecycle hooks in real pods: readiness gates READY in `ps`, a failing liveness
 * probe restarts the container, httpGet works in a pod without its own IP, preStop runs
 * before SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, inspect, isRoot, makeTestEnv, minipodSync, waitFor, writeManifest, type TestEnv } from '../support/minipod.js';

function pod(name: string, containers: object[], extra: object = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: { 'minipod.io/network': 'none' } },
    spec: { terminationGracePeriodSeconds: 5, containers, ...extra },
  };
}

describe.skipIf(!isRoot)('probes and hooks (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('probes')));
  afterEach(() => {
    const dir = path.join(t.env.MINIPOD_RUN_DIR!, 'pods');
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) minipodSync(t, ['rm', '-f', name]);
  });
  afterAll(() => t?.cleanup());

  it('shows a container as ready only once its readiness probes pass (exec and httpGet)', async () => {
    const manifest = pod('ready', [
      {
        name: 'slow',
        image: BUSYBOX_ROOTFS,
        command: ['sh', '-c', 'sleep 2; touch /tmp/ready; exec sleep 1000'],
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
      },
      {
        name: 'web',
        image: BUSYBOX_ROOTFS,
        command: ['sh', '-c', 'mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 127.0.0.1:8080 -h /www'],
        readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 },
      },
    ]);
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'ready.json', manifest)]).code).toBe(0);
    expect(minipodSync(t, ['ps']).stdout).toMatch(/^ready\s+Running\s+[01]\/2/m);
    await waitFor('web ready', () => inspect(t, 'ready')?.containers.find((c) => c.name === 'web')?.ready);
    expect(inspect(t, 'ready')!.containers.find((c) => c.name === 'slow')!.ready).toBe(false);
    await waitFor('both ready', () => /^ready\s+Running\s+2\/2/m.test(minipodSync(t, ['ps']).stdout), 10_000);
  });

  it('restarts a container whose liveness probe fails', async () => {
    const manifest = pod(
      'live',
      [
        {
          name: 'flaky',
          image: BUSYBOX_ROOTFS,
          // Listens for 2 s, then stops answering but keeps running.
          command: ['sh', '-c', 'timeout 2 nc -lk -p 9000 -e true; exec sleep 1000'],
          livenessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
      { restartPolicy: 'Always', terminationGracePeriodSeconds: 1 },
    );
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'live.json', manifest)]).code).toBe(0);
    const killed = await waitFor('the liveness kill', () =>
      inspect(t, 'live')?.containers.find((c) => c.reason === 'LivenessProbeFailed' || c.restartCount > 0),
    );
    expect(killed.reason === 'LivenessProbeFailed' || killed.restartCount > 0).toBe(true);
    await waitFor('the restart', () => (inspect(t, 'live')?.containers[0]?.restartCount ?? 0) >= 1, 20_000);
  });

  it('runs preStop before SIGTERM when the pod is stopped', async () => {
    const out = path.join(t.dir, 'hook-out');
    fs.mkdirSync(out, { recursive: true });
    const manifest = pod(
      'hooks',
      [
        {
          name: 'app',
          image: BUSYBOX_ROOTFS,
          command: ['sh', '-c', 'trap "echo term >> /out/events; exit 0" TERM; while :; do sleep 0.1; done'],
          volumeMounts: [{ name: 'out', mountPath: '/out' }],
          lifecycle: {
            postStart: { exec: { command: ['sh', '-c', 'echo poststart >> /out/events'] } },
            preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /out/events'] } },
          },
        },
      ],
      { volumes: [{ name: 'out', hostPath: { path: out, type: 'Directory' } }] },
    );
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'hooks.json', manifest)]).code).toBe(0);
    await waitFor(
      'postStart',
      () => fs.existsSync(path.join(out, 'events')) && fs.readFileSync(path.join(out, 'events'), 'utf8').includes('poststart'),
    );
    expect(minipodSync(t, ['stop', 'hooks']).code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'events'), 'utf8').trim().split('\n')).toEqual(['poststart', 'prestop', 'term']);
  });
});
