/**
 * Sidecar containers (init containers with restartPolicy Always) in real pods: the next init
 * container and the app start only once the sidecar has started (its startup probe passed),
 * a killed sidecar is restarted whatever the pod's restartPolicy, it counts in READY, it is
 * stopped after the app container, and a pod whose app containers are done completes with the
 * sidecars terminated. Events go to a hostPath file so their order can be read afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  BUSYBOX_ROOTFS,
  inspect,
  isRoot,
  makeTestEnv,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

const LOOP = 'while :; do sleep 0.2; done';

function sidecarPod(name: string, eventsDir: string, app: string, restartPolicy = 'Never'): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: { 'minipod.io/network': 'none' } },
    spec: {
      restartPolicy,
      terminationGracePeriodSeconds: 10,
      volumes: [{ name: 'ev', hostPath: { path: eventsDir, type: 'Directory' } }],
      initContainers: [
        {
          name: 'side',
          image: BUSYBOX_ROOTFS,
          restartPolicy: 'Always',
          // Up only after 2 s: the startup probe holds the next init container back until then.
          command: [
            'sh',
            '-c',
            `echo side-start >> /ev/events; trap 'echo side-term >> /ev/events; exit 0' TERM; sleep 2; touch /tmp/up; echo side-up >> /ev/events; ${LOOP}`,
          ],
          startupProbe: { exec: { command: ['test', '-f', '/tmp/up'] }, periodSeconds: 1, failureThreshold: 30 },
          volumeMounts: [{ name: 'ev', mountPath: '/ev' }],
        },
        {
          name: 'check',
          image: BUSYBOX_ROOTFS,
          // Fails (and so fails the pod: restartPolicy Never) unless the sidecar is up already.
          command: ['sh', '-c', 'grep -q side-up /ev/events || exit 1; echo check >> /ev/events'],
          volumeMounts: [{ name: 'ev', mountPath: '/ev' }],
        },
      ],
      containers: [{ name: 'app', image: BUSYBOX_ROOTFS, command: ['sh', '-c', app], volumeMounts: [{ name: 'ev', mountPath: '/ev' }] }],
    },
  };
}

const events = (dir: string): string[] => fs.readFileSync(path.join(dir, 'events'), 'utf8').trim().split('\n');

describe.skipIf(!isRoot)('sidecar containers (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('sidecars')));
  afterEach(() => {
    const dir = path.join(t.env.MINIPOD_RUN_DIR!, 'pods');
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) minipodSync(t, ['rm', '-f', name]);
  });
  afterAll(() => t?.cleanup());

  it('starts the sidecar first, restarts it when killed, and stops it after the app', async () => {
    const dir = fs.mkdtempSync(path.join(t.dir, 'ev-'));
    const app = `echo app-start >> /ev/events; trap 'echo app-term >> /ev/events; sleep 1; echo app-exit >> /ev/events; exit 0' TERM; ${LOOP}`;
    const started = Date.now();
    expect(minipodSync(t, ['run', '-d', writeManifest(t, 'order.json', sidecarPod('order', dir, app))]).code).toBe(0);
    await waitFor('app running', () => inspect(t, 'order')?.containers.find((c) => c.name === 'app')?.state === 'running', 30_000);
    // The startup probe took at least the sidecar's 2 s before anything after it started.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(events(dir)).toEqual(['side-start', 'side-up', 'check', 'app-start']);
    await waitFor('READY 2/2 (the sidecar counts)', () => /^order\s+Running\s+2\/2/m.test(minipodSync(t, ['ps']).stdout), 10_000);

    const side = inspect(t, 'order')!.containers.find((c) => c.name === 'side')!;
    expect(side.state).toBe('running');
    process.kill(side.pid!, 'SIGKILL');
    // kubelet's back-off: 10 s before the first restart, whatever the pod's restartPolicy (Never).
    const again = await waitFor(
      'the sidecar restarted',
      () => inspect(t, 'order')?.containers.find((c) => c.name === 'side' && c.restartCount === 1 && c.state === 'running'),
      30_000,
    );
    expect(again.pid).not.toBe(side.pid);
    expect(alive(side.pid!)).toBe(false);
    await waitFor('the restarted sidecar up', () => events(dir).filter((e) => e === 'side-up').length === 2, 10_000);
    expect(inspect(t, 'order')!.containers.find((c) => c.name === 'app')!.restartCount).toBe(0);

    expect(minipodSync(t, ['stop', 'order'], { timeoutMs: 60_000 }).code).toBe(0);
    const log = events(dir);
    // The sidecar got its SIGTERM only after the app had exited.
    expect(log.slice(-3)).toEqual(['app-term', 'app-exit', 'side-term']);
  });

  it('completes a pod whose app container is done, terminating the sidecar', async () => {
    const dir = fs.mkdtempSync(path.join(t.dir, 'ev-'));
    const r = minipodSync(
      t,
      ['run', writeManifest(t, 'done.json', sidecarPod('done', dir, 'echo app-start >> /ev/events; echo work done'))],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/app +\| work done/);
    expect(events(dir)).toEqual(['side-start', 'side-up', 'check', 'app-start', 'side-term']);
  });
});
