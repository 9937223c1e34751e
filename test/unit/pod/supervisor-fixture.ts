/**
 * The world of the supervisor's unit tests, shared by supervisor.test.ts and sidecars.test.ts:
 * a fake host (fake-host.ts), the real v2 cgroup manager on the fake cgroupfs, the recording
 * syscall fake and a temp dir, made fresh for each test. Importing this module registers the
 * hooks; the `let` exports are live bindings, so tests read the current test's objects.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { createCgroupManager, type CgroupManager } from '../../../src/cgroups/manager.js';
import { parsePodManifest } from '../../../src/manifest/index.js';
import type { MinipodPaths } from '../../../src/paths.js';
import type { ContainerPlan } from '../../../src/plan/types.js';
import { PodSupervisor, type SupervisorOptions } from '../../../src/pod/supervisor.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';
import { FakeCgroupFs } from '../cgroups/fake-cgroupfs.js';
import { FakeHost } from './fake-host.js';

export let dir: string;
export let paths: MinipodPaths;
export let cgfs: FakeCgroupFs;
export let cgroups: CgroupManager;
export let host: FakeHost;
export let sys: RecordingSyscall;
export let events: string[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-supervisor-'));
  cgfs = new FakeCgroupFs('unified');
  paths = {
    runDir: path.join(dir, 'run'),
    libDir: path.join(dir, 'lib'),
    logDir: path.join(dir, 'log'),
    cgroupRoot: cgfs.root,
    cgroupParent: 'minipod',
    cniConfDir: path.join(dir, 'cni'),
    cniPluginDirs: [],
  };
  cgroups = createCgroupManager({ root: cgfs.root, parent: 'minipod', fs: cgfs, mode: 'unified', killTimeoutMs: 100 });
  host = new FakeHost(paths);
  sys = new RecordingSyscall();
  events = [];
});

afterEach(() => {
  vi.useRealTimers();
  cgfs.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

export function podOf(spec: object) {
  return parsePodManifest(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec }), { manifestDir: '/m' });
}

export function supervisor(spec: object, extra: Partial<SupervisorOptions> = {}): PodSupervisor {
  return new PodSupervisor(podOf(spec), {
    paths,
    sys,
    cgroups,
    host,
    output: { line: () => {}, event: (m) => events.push(m) },
    trace: () => {},
    ...extra,
  });
}

export const containerPlans = () => host.plans.map((p) => p.plan).filter((p): p is ContainerPlan => p.kind === 'container');
export const tick = () => new Promise((r) => setImmediate(r));
export async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await tick();
  expect(check()).toBe(true);
}
