/**
 * minipod under test: the real CLI (bin/minipod, i.e. dist/), with its run, lib, log and CNI
 * config dirs moved into the bench's temp dir, as the integration tests do, so the bench cannot
 * touch a user's pods and its leftovers go with the temp dir. The image cache is filled by the
 * warm-up round, as it would be on any host that has run the image once.
 *
 * `minipod run` is a thin client of the per-run-dir daemon (src/daemon/server.ts), which
 * supervises every pod; ./daemon.ts puts that daemon in the state each row measures. The
 * daemon's pid is every pod's `supervisor.pid`: nothing here signals it (that would stop every
 * pod). An attached pod is stopped by SIGTERM to its `minipod run` client, which forwards a
 * stop to the daemon; a detached one by `minipod rm -f`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GuardFailed, type Running, type Timed, nowMs, run, start, waitFor } from '../exec.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface MinipodEnv {
  dir: string;
  /** bin/minipod of the bench's frozen copy of the build (see snapshotBuild). */
  bin: string;
  /** dist/ of that copy, for the modules the breakdown loads in-process. */
  dist: string;
  env: NodeJS.ProcessEnv;
  runDir: string;
  /** `run -d` exists (the lead's detached mode): pod up/down then use `run -d` / `rm -f`. */
  detach: boolean;
}

/**
 * Copies bin/ (minipod, minipod-oci, package.json), dist/bundle, dist/src, dist/native-bindings and package.json into the bench dir (node_modules
 * linked), so a rebuild of dist/ by someone working in the repo meanwhile cannot change or
 * break minipod half-way through a run. The numbers are those of the build at bench start.
 */
function snapshotBuild(root: string): { bin: string; dist: string } {
  const app = path.join(root, 'app');
  fs.mkdirSync(path.join(app, 'bin'), { recursive: true });
  for (const d of ['dist/bundle', 'dist/src', 'dist/native-bindings'])
    fs.cpSync(path.join(REPO, d), path.join(app, d), { recursive: true });
  // minipod-oci too: conmon mode (MINIPOD_CONTAINER_MONITOR=conmon) runs the one beside bin/minipod.
  for (const bin of ['bin/minipod', 'bin/minipod-oci']) {
    fs.copyFileSync(path.join(REPO, bin), path.join(app, bin));
    fs.chmodSync(path.join(app, bin), 0o755);
  }
  // What makes the two CommonJS (the package is "type": "module").
  fs.copyFileSync(path.join(REPO, 'bin/package.json'), path.join(app, 'bin/package.json'));
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(app, 'package.json'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(app, 'node_modules'));
  return { bin: path.join(app, 'bin/minipod'), dist: path.join(app, 'dist') };
}

export function minipodEnv(root: string): MinipodEnv {
  const dir = path.join(root, 'minipod');
  fs.mkdirSync(dir, { recursive: true });
  const build = snapshotBuild(root);
  const runDir = path.join(dir, 'run');
  // As `sudo minipod` would see it: sudo's env_reset drops NODE_* variables. This matters:
  // NODE_EXTRA_CA_CERTS (set on this project's VMs) makes every Node start read a CA bundle,
  // ~25 ms per process.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_')));
  const env = {
    ...inherited,
    MINIPOD_RUN_DIR: runDir,
    MINIPOD_LIB_DIR: path.join(dir, 'lib'),
    MINIPOD_LOG_DIR: path.join(dir, 'log'),
    MINIPOD_CNI_CONF_DIR: path.join(dir, 'cni'),
    // Step timings on stderr, if this minipod has them (src/trace.ts); harmless otherwise.
    MINIPOD_TRACE: '1',
    // The daemon exits after this long without pods or clients (default 60 s). Podman's
    // scenario-4 rounds can be longer than that: a daemon that went away between two timed
    // runs would make the next one cold. The bench stops it itself (./daemon.ts).
    MINIPOD_DAEMON_IDLE: '1800',
  };
  return { dir, ...build, env, runDir, detach: false };
}

export async function detectDetach(m: MinipodEnv): Promise<boolean> {
  const help = await run(m.bin, ['run', '--help'], { env: m.env });
  return /(^|\s)-d\b|--detach/.test(help.stdout + help.stderr);
}

export async function minipodVersion(m: MinipodEnv): Promise<string> {
  const r = await run(m.bin, ['--version'], { env: m.env });
  return r.stdout.trim();
}

export type NetworkMode = 'none' | 'bridge';

export interface ContainerDef {
  name: string;
  command: string[];
}

/** A Pod manifest, written as JSON (YAML's superset) into the bench dir. */
/** `spec` adds pod-level fields (a `securityContext`, ...). */
export function writePod(
  m: MinipodEnv,
  name: string,
  image: string,
  network: NetworkMode,
  containers: ContainerDef[],
  spec: object = {},
): string {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: { 'minipod.io/network': network } },
    spec: {
      restartPolicy: 'Never',
      // "down" measures teardown, not a grace period (podman: pod rm -t 0).
      terminationGracePeriodSeconds: 0,
      containers: containers.map((c) => ({ name: c.name, image, command: c.command })),
      ...spec,
    },
  };
  const file = path.join(m.dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
  return file;
}

// ---- state ----

interface ContainerStateLite {
  name: string;
  init?: boolean;
  state: string;
  pid?: number;
  logPath?: string;
  /** The conmon holding the container (MINIPOD_CONTAINER_MONITOR=conmon), not the daemon's child. */
  held?: { conmon: { pid: number } };
}

export interface PodStateLite {
  name: string;
  phase: string;
  /** The daemon's pid (the same for every pod). */
  supervisor?: { pid: number };
  /** The pod's init (catatonit -P), a child of the daemon. */
  init?: { pid: number };
  containers: ContainerStateLite[];
}

export function readState(m: MinipodEnv, pod: string): PodStateLite | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(m.runDir, 'pods', pod, 'state.json'), 'utf8')) as PodStateLite;
  } catch {
    return undefined; // Not written yet, or mid-rename.
  }
}

export function allRunning(s: PodStateLite | undefined): boolean {
  const apps = s?.containers.filter((c) => !c.init) ?? [];
  return apps.length > 0 && apps.every((c) => c.state === 'running');
}

export function podDirGone(m: MinipodEnv, pod: string): boolean {
  return !fs.existsSync(path.join(m.runDir, 'pods', pod));
}

// ---- trace ----

export interface TracePoint {
  /**
   * ms since the `minipod run` client started (performance.now()); the daemon's steps are
   * mapped onto that clock by the client.
   */
  atMs: number;
  step: string;
}

export function parseTrace(stderr: string): TracePoint[] {
  const out: TracePoint[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^minipod-trace: ([\d.]+)ms (.*)$/.exec(line);
    if (m) out.push({ atMs: Number(m[1]), step: m[2]!.trim() });
  }
  return out;
}

// ---- scenario building blocks ----

/** One attached run to the end; the container must print `marker`. */
export async function runAttached(m: MinipodEnv, manifest: string, marker: string, env = m.env): Promise<Timed & { trace: TracePoint[] }> {
  const r = await run(m.bin, ['run', manifest], { env });
  if (r.code !== 0 || !r.stdout.includes(marker)) {
    throw new GuardFailed(
      `minipod run ${manifest}: code=${r.code}, marker "${marker}" ${r.stdout.includes(marker) ? 'seen' : 'missing'}\n${r.stderr.slice(-1500)}`,
    );
  }
  return { ...r, trace: parseTrace(r.stderr) };
}

export interface UpPod {
  name: string;
  upMs: number;
  /** The attached `minipod run` client, when not detached (it stays for the pod's life). */
  attached?: Running;
  trace: TracePoint[];
}

/** Starts a pod and resolves once the state file shows every app container running. */
export async function podUp(m: MinipodEnv, name: string, manifest: string, detach = m.detach, pollMs = 1, env = m.env): Promise<UpPod> {
  const t0 = nowMs();
  if (detach) {
    const r = await run(m.bin, ['run', '-d', manifest], { env });
    if (r.code !== 0) throw new GuardFailed(`minipod run -d ${manifest}: code=${r.code}\n${r.stderr.slice(-1500)}`);
    // run -d answers once every container runs; the check costs nothing when that holds.
    await waitFor(`pod ${name} running`, () => (allRunning(readState(m, name)) ? true : undefined), 30_000, pollMs);
    return { name, upMs: nowMs() - t0, trace: parseTrace(r.stderr) };
  }
  const attached = start(m.bin, ['run', manifest], { env });
  let failed: Timed | undefined;
  void attached.exited.then((r) => (failed = r));
  await waitFor(
    `pod ${name} running`,
    () => {
      if (failed) throw new GuardFailed(`minipod run ${manifest} exited early: code=${failed.code}\n${failed.stderr.slice(-1500)}`);
      return allRunning(readState(m, name)) ? true : undefined;
    },
    60_000,
    pollMs,
  );
  return { name, upMs: nowMs() - t0, attached, trace: parseTrace(attached.out.stderr) };
}

/** Every container printed its marker (attached: on our stdout; detached: in its log file). */
export async function expectMarkers(m: MinipodEnv, pod: UpPod, markers: string[]): Promise<void> {
  await waitFor(
    `markers of ${pod.name}`,
    () => {
      let text = pod.attached?.out.stdout ?? '';
      if (!pod.attached) {
        for (const c of readState(m, pod.name)?.containers ?? []) {
          try {
            text += fs.readFileSync(c.logPath ?? '', 'utf8');
          } catch {
            // Not written yet.
          }
        }
      }
      return markers.every((mk) => text.includes(mk)) ? true : undefined;
    },
    10_000,
    5,
  );
}

/**
 * Stops and removes the pod; resolves with the time that took. Attached: SIGTERM to the
 * `minipod run` client (never to the daemon), until the client exits.
 */
export async function podDown(m: MinipodEnv, pod: UpPod): Promise<number> {
  const t0 = nowMs();
  if (pod.attached) {
    if (pod.attached.child.exitCode !== null || pod.attached.child.signalCode !== null) {
      const r = await pod.attached.exited;
      throw new GuardFailed(`minipod run of ${pod.name} ended before it was stopped: code=${r.code}\n${r.stderr.slice(-1500)}`);
    }
    pod.attached.child.kill('SIGTERM');
    const r = await pod.attached.exited;
    const ms = nowMs() - t0;
    if (r.signal) throw new GuardFailed(`minipod run of ${pod.name} died of ${r.signal}\n${r.stderr.slice(-1500)}`);
    if (!podDirGone(m, pod.name)) throw new GuardFailed(`pod ${pod.name}: run dir left after its run exited`);
    return ms;
  }
  const r = await run(m.bin, ['rm', '-f', pod.name], { env: m.env });
  const ms = nowMs() - t0;
  if (r.code !== 0) throw new GuardFailed(`minipod rm -f ${pod.name}: code=${r.code}\n${r.stderr.slice(-1500)}`);
  if (!podDirGone(m, pod.name)) throw new GuardFailed(`pod ${pod.name}: run dir left after rm -f`);
  return ms;
}

/** Best effort, for the error path: nothing of the bench's pods may outlive it (the daemon: see daemon.ts). */
export async function removeAllPods(m: MinipodEnv): Promise<void> {
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(m.runDir, 'pods'));
  } catch {
    return;
  }
  // `rm -f` goes to the daemon when it runs the pod, to the full CLI otherwise (a record left
  // by a dead daemon). An attached client of a removed pod exits on its own.
  for (const n of names) await run(m.bin, ['rm', '-f', n], { env: m.env, timeoutMs: 30_000 }).catch(() => undefined);
  await run(m.bin, ['gc'], { env: m.env, timeoutMs: 30_000 }).catch(() => undefined);
}
