/**
 * Running the real `minipod` binary (built into dist/) from integration tests, with every
 * state directory moved into a per-file temp dir so tests cannot touch a user's pods.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerMonitor } from '../../src/daemon/monitor.js';
import { pidAlive } from '../../src/network/state.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MINIPOD = path.join(REPO, 'bin/minipod');
export const isRoot = process.getuid?.() === 0;

/**
 * Who holds containers in the daemons these tests start: the daemon inherits this process's
 * environment, so `MINIPOD_CONTAINER_MONITOR=conmon npx vitest ...` runs the suite under conmon.
 * Tests that differ between the modes (a daemon's kill -9, the log's time zone) branch on it.
 */
export const CONTAINER_MONITOR = containerMonitor(process.env, () => {});

/** The test VM (qemu TCG) is ~10x slower than the host: default waits are longer there (vitest.config.ts too). */
export const VM_SLOWDOWN = process.env.MINIPOD_IN_VM === '1' ? 3 : 1;

/** Root filesystems built by rootfs-tools (scripts/test.sh builds them before the suites). */
export const BUSYBOX_ROOTFS = path.join(REPO, 'build/rootfs/busybox.tar');

export interface TestEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function makeTestEnv(name: string): TestEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `minipod-it-${name}-`));
  const env = {
    ...process.env,
    MINIPOD_RUN_DIR: path.join(dir, 'run'),
    MINIPOD_LIB_DIR: path.join(dir, 'lib'),
    MINIPOD_LOG_DIR: path.join(dir, 'log'),
    MINIPOD_CNI_CONF_DIR: path.join(dir, 'cni'),
    // Cgroups are host-wide: a parent of our own keeps `gc` of one environment from
    // touching the pods of another (another test file, a developer's pods).
    MINIPOD_CGROUP_PARENT: `minipod-it-${path.basename(dir).slice(-6)}`,
  };
  const cleanup = (): void => {
    // The daemon this environment started (run starts one on demand) goes with it.
    if (fs.existsSync(path.join(dir, 'run', 'daemon.pid'))) spawnSync(MINIPOD, ['daemon', 'stop'], { env, timeout: 120_000 });
    // MINIPOD_IT_KEEP=1 keeps the dir (daemon.log, the pods' logs) to look at after a failure.
    if (process.env.MINIPOD_IT_KEEP === '1') process.stderr.write(`kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  return { dir, env, cleanup };
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function minipodSync(t: TestEnv, args: string[], options: { timeoutMs?: number; input?: string } = {}): Result {
  const r = spawnSync(MINIPOD, args, {
    env: t.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000 * VM_SLOWDOWN,
    input: options.input,
  });
  return { code: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr };
}

export function minipod(t: TestEnv, args: string[], options: { timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(MINIPOD, args, { env: t.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000 * VM_SLOWDOWN);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
    });
  });
}

/** Writes a manifest (an object, written as JSON; or YAML text) into the test dir. */
export function writeManifest(t: TestEnv, name: string, manifest: object | string): string {
  const file = path.join(t.dir, name);
  fs.writeFileSync(file, typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2));
  return file;
}

/** A pod of busybox containers; each entry is [name, shell script]. */
export function busyboxPod(name: string, containers: [string, string][], extra: { spec?: object; metadata?: object } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...extra.metadata },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      containers: containers.map(([n, script]) => ({ name: n, image: BUSYBOX_ROOTFS, command: ['sh', '-c', script] })),
      ...extra.spec,
    },
  };
}

/**
 * Running and not a zombie: an exited daemon or container may wait a while for its new parent
 * (PID 1) to reap it, and is gone for every purpose of a test.
 */
export function alive(pid: number): boolean {
  return pidAlive(pid);
}

/** Polls `fn` until it returns a truthy value or the time is up (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs = 20_000 * VM_SLOWDOWN,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface InspectedPod {
  name: string;
  phase: string;
  supervisor: { pid: number };
  init?: { pid: number };
  cgroupPaths: string[];
  network?: { ip?: string };
  containers: {
    name: string;
    state: string;
    pid?: number;
    exitCode?: number;
    reason?: string;
    restartCount: number;
    ready: boolean;
    cgroupPaths: string[];
  }[];
}

export function inspect(t: TestEnv, pod: string): InspectedPod | undefined {
  const r = minipodSync(t, ['inspect', pod]);
  return r.code === 0 ? (JSON.parse(r.stdout) as InspectedPod) : undefined;
}

/**
 * Why a test that uses the default CNI network must be skipped, or '' to run it: it needs root
 * and the plugins, and no other minipod network on this host (it shares minipod0 and its
 * subnet, which would make the "nothing left behind" checks meaningless).
 */
export function networkSkipReason(): string {
  const hasPlugins = ['bridge', 'host-local', 'portmap', 'firewall'].every((p) => fs.existsSync(`/usr/lib/cni/${p}`));
  if (!isRoot) return 'needs root';
  if (!hasPlugins) return 'needs containernetworking-plugins in /usr/lib/cni';
  if (fs.existsSync('/sys/class/net/minipod0')) return 'bridge minipod0 exists: another minipod network is in use on this host';
  return '';
}
