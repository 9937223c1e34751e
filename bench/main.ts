/**
 * `npm run bench` (root): minipod against crun, runc and podman on the same busybox rootfs.
 *
 *   sudo npm run bench -- [--rounds N] [--warmup N] [--pods N] [--s4-rounds N]
 *                         [--only s1,bd,s2,s4,sc,un,oc,op,bb] [--no-podman] [--no-podman-concurrent]
 *                         [--memory-rounds N] [--settle-ms N] [--bb-gap-ms N] [--bb-quiet-s N]
 *                         [--report docs/performance.md] [--json bench/results/latest.json]
 *
 * Writes the generated part of docs/performance.md and the raw samples as JSON. Exits 1 when a
 * guard failed (a tool did not really run its containers) or the host was left dirty.
 *
 * minipod runs pods through a per-run-dir daemon with a warm pool (src/daemon). The bench
 * starts it (untimed) before measuring, measures minipod warm (daemon running, pool full:
 * `minipod daemon settle` before every timed minipod run and after every minipod measurement)
 * with cold and no-pool rows alongside, and stops it (`minipod daemon stop`) before the host
 * check. See bench/tools/daemon.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sh, sleep, trySh } from './exec.js';
import { checkLeaks, snapshotHost } from './leaks.js';
import { machineInfo, toolVersions } from './machine.js';
import { type Results, writeReport } from './report.js';
import { outsideMeasures, rowBreakdown } from './scenarios/breakdown.js';
import { BB_MINIPOD_ROWS, scenarioBackToBack } from './scenarios/back-to-back.js';
import { scenarioConcurrent } from './scenarios/concurrent.js';
import { S1_COMMAND, S1_MINIPOD_ROWS, scenarioOneContainer } from './scenarios/one-container.js';
import { scenarioOciLifecycle, scenarioPodmanRuntime } from './scenarios/oci-runtime.js';
import { scenarioPod } from './scenarios/pod.js';
import { scenarioSeccomp } from './scenarios/seccomp.js';
import { scenarioUserns } from './scenarios/userns.js';
import { DaemonControl } from './tools/daemon.js';
import { REPO, detectDetach, minipodEnv, minipodVersion, removeAllPods } from './tools/minipod.js';
import { makeBundle, ociVersions, removeNewRuntimeDirs, runtimeDirsBefore, runtimeDirsLeft } from './tools/oci.js';
import { podmanCleanup, podmanEnv, podmanHostBefore, podmanImport, podmanLeftovers, podmanVersion } from './tools/podman.js';
import type { Breakdown, Context, FixedCost, MemorySample, RatioSpec, Row } from './types.js';

interface Options {
  rounds: number;
  warmup: number;
  pods: number;
  s4Rounds: number;
  only: Set<string>;
  podman: boolean;
  podmanConcurrent: boolean;
  report: string;
  json: string;
  image: string;
  memoryRounds: number;
  settleMs: number;
  /** Scenario bb: pause between the spaced runs; how long after a burst the idle footprint is taken. */
  bbGapMs: number;
  bbQuietS: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rounds: 15,
    warmup: 2,
    pods: 20,
    s4Rounds: 2,
    only: new Set(['s1', 'bd', 's2', 's4', 'sc', 'un', 'oc', 'op', 'bb']),
    podman: true,
    podmanConcurrent: true,
    report: path.join(REPO, 'docs/performance.md'),
    json: path.join(REPO, 'bench/results/latest.json'),
    image: path.join(REPO, 'build/rootfs/busybox.tar'),
    memoryRounds: 3,
    settleMs: 1000,
    bbGapMs: 1500,
    // Longer than the pool's drain delay (src/daemon/pool-policy.ts), shorter than the daemon's idle exit.
    bbQuietS: 40,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: not a whole number`);
      return n;
    };
    if (a === '--rounds') o.rounds = Math.max(1, int());
    else if (a === '--warmup') o.warmup = int();
    else if (a === '--pods') o.pods = Math.max(1, int());
    else if (a === '--s4-rounds') o.s4Rounds = int();
    else if (a === '--only') o.only = new Set(next().split(','));
    else if (a === '--no-podman') o.podman = false;
    else if (a === '--no-podman-concurrent') o.podmanConcurrent = false;
    else if (a === '--podman-concurrent') o.podmanConcurrent = true;
    else if (a === '--report') o.report = path.resolve(next());
    else if (a === '--json') o.json = path.resolve(next());
    else if (a === '--memory-rounds') o.memoryRounds = int();
    else if (a === '--settle-ms') o.settleMs = int();
    else if (a === '--bb-gap-ms') o.bbGapMs = int();
    else if (a === '--bb-quiet-s') o.bbQuietS = Math.max(3, int());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        fs
          .readFileSync(new URL(import.meta.url), 'utf8')
          .split('*/')[0]!
          .replace(/^\/\*\*?\n?/, '')
          .replace(/^ \* ?/gm, '') + '\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a} (--help lists them)`);
  }
  return o;
}

const RATIOS: RatioSpec[] = [
  { label: '1. one container: minipod (none) / runc', ours: 's1.minipod-none', peer: 's1.runc', target: 5 },
  { label: '1. one container: minipod (none) / crun (+wrapper)', ours: 's1.minipod-none', peer: 's1.crun' },
  { label: '1. one container: minipod (none) / crun (wrapper subtracted)', ours: 's1.minipod-none', peer: 's1.crun-net' },
  { label: '1. one container: minipod (bridge) / runc', ours: 's1.minipod-bridge', peer: 's1.runc' },
  { label: '1. one container: minipod (none), pool disabled / runc (informational)', ours: 's1.minipod-none-nopool', peer: 's1.runc' },
  { label: '1. one container: minipod (none), daemon not running / runc (informational)', ours: 's1.minipod-none-cold', peer: 's1.runc' },
  { label: '2. 3-container pod up: minipod run -d / podman', ours: 's2.up.minipod-detached', peer: 's2.up.podman', target: 1 / 3 },
  { label: '2. 3-container pod down: minipod rm -f / podman', ours: 's2.down.minipod-detached', peer: 's2.down.podman', target: 1 / 4 },
  { label: '2. 3-container pod up: minipod attached / podman', ours: 's2.up.minipod-attached', peer: 's2.up.podman', target: 1 / 3 },
  { label: '2. 3-container pod down: minipod attached / podman', ours: 's2.down.minipod-attached', peer: 's2.down.podman', target: 1 / 4 },
  {
    label: '2. 3-container pod up: minipod run -d, pool disabled / podman (informational)',
    ours: 's2.up.minipod-detached-nopool',
    peer: 's2.up.podman',
  },
  { label: '3. memory per pod (PSS): minipod detached / podman', ours: 's3.pss.minipod-detached', peer: 's3.pss.podman', target: 1 },
  // Attached counts the `minipod run` client that stays in the user's terminal, as
  // `podman run` would; podman's number is its detached pods (conmons + catatonit): informational.
  {
    label: '3. memory per pod (PSS): minipod attached, its client included / podman detached (informational)',
    ours: 's3.pss.minipod-attached',
    peer: 's3.pss.podman',
  },
  { label: '3. memory per pod (RSS): minipod detached / podman', ours: 's3.rss.minipod-detached', peer: 's3.rss.podman' },
  { label: '4. N pods at once, all running: minipod / podman', ours: 's4.up.minipod', peer: 's4.up.podman' },
  // Issue 16: with many pods the daemon's growth is shared; podman's figure is per pod whatever their number.
  {
    label: '4. memory per pod (PSS), N pods running: minipod / podman (scenario 3)',
    ours: 's3.pss.minipod-N-pods',
    peer: 's3.pss.podman',
    target: 1,
  },
  { label: '4. N pods at once, all removed: minipod / podman', ours: 's4.down.minipod', peer: 's4.down.podman' },
  { label: '5. seccomp: one-container pod start, default profile / Unconfined', ours: 'sc.default-1', peer: 'sc.unconfined-1' },
  { label: '5. seccomp: three-container pod start, default profile / Unconfined', ours: 'sc.default-3', peer: 'sc.unconfined-3' },
  { label: '6. pod up: hostUsers: false / host users (warm pool)', ours: 'un.up.userns', peer: 'un.up.default' },
  {
    label: '6. pod up: hostUsers: false / host users, pool disabled (the user namespace itself)',
    ours: 'un.up.userns',
    peer: 'un.up.default-nopool',
  },
  { label: '6. pod down: hostUsers: false / host users', ours: 'un.down.userns', peer: 'un.down.default' },
  { label: '7. OCI runtime: create+start+wait+delete, minipod-oci / runc', ours: 'oc.minipod-oci', peer: 'oc.runc' },
  { label: '8. podman run --rm: --runtime minipod-oci / runc', ours: 'op.podman-minipod-oci', peer: 'op.podman-runc' },
  // Issue 16: as users run pods, one after another with no settle, and what stays once they stop.
  { label: '9. back to back, one container: minipod (none) / runc', ours: 'bb.minipod-none', peer: 'bb.runc', target: 3 },
  {
    label: '9. one container, network none: minipod back to back / 1.5 s apart',
    ours: 'bb.minipod-none',
    peer: 'bb.minipod-none-spaced',
    target: 1.2,
  },
  {
    label: '9. one container, network none: minipod back to back / settled (scenario 1, informational)',
    ours: 'bb.minipod-none',
    peer: 's1.minipod-none',
  },
  {
    label: '9. back to back, one container, default network: minipod (bridge) / podman run --rm',
    ours: 'bb.minipod-bridge',
    peer: 'bb.podman-run',
    target: 0.4,
  },
  { label: '9. back to back, 3-container pod up + down: minipod / podman', ours: 'bb.pod.minipod', peer: 'bb.pod.podman', target: 1 / 4 },
  { label: '10. idle footprint RSS: after a quiet period / pool full', ours: 'bb.idle.rss.quiet', peer: 'bb.idle.rss.full', target: 0.5 },
  { label: '10. idle footprint PSS: after a quiet period / pool full', ours: 'bb.idle.pss.quiet', peer: 'bb.idle.pss.full', target: 0.5 },
  {
    label: '10. idle footprint RSS: 2 s after the last pod / pool full (informational)',
    ours: 'bb.idle.rss.after-2s',
    peer: 'bb.idle.rss.full',
  },
];

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Unmounts anything below dir (deepest first) and removes it. */
function removeTree(dir: string): void {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((mp): mp is string => !!mp && mp.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const mp of mounts) trySh(`umount -l '${mp}'`);
  fs.rmSync(dir, { recursive: true, force: true });
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** Puts back the value found before the run; true when it had changed. */
function restoreIpForward(before: string): boolean {
  if (fs.readFileSync(IP_FORWARD, 'utf8').trim() === before) return false;
  fs.writeFileSync(IP_FORWARD, before);
  return true;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the bench runs containers: run it as root (sudo npm run bench)');
  if (!fs.existsSync(o.image)) throw new Error(`${o.image} missing: bash rootfs-tools/build.sh busybox build/rootfs`);
  const t0 = Date.now();
  // Others may use this machine: the load before and after says how quiet it was.
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const hostBefore = snapshotHost();
  // podman's netavark (and CNI's bridge) turn forwarding on; the host gets back what it had.
  const ipForwardBefore = fs.readFileSync(IP_FORWARD, 'utf8').trim();
  const podmanBefore = podmanHostBefore();
  const runtimeBefore = runtimeDirsBefore();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-bench-'));
  const errors: string[] = [];
  const retried: string[] = [];
  const rows: Row[] = [];
  const memory: MemorySample[] = [];
  const fixed: FixedCost[] = [];
  const breakdown: Breakdown[] = [];
  let cleaned: string[] = [];
  const versions: Record<string, string> = {};
  const minipod = minipodEnv(root);
  const podman = o.podman && trySh('command -v podman').trim() ? podmanEnv(root) : undefined;
  let daemon: DaemonControl | undefined;

  try {
    // The same busybox rootfs for everyone: minipod takes the tarball, the OCI runtimes a
    // directory unpacked from it, podman an image imported from that directory.
    const rootfsDir = path.join(root, 'rootfs');
    fs.mkdirSync(rootfsDir);
    sh(`tar -C '${rootfsDir}' -xf '${o.image}'`);
    minipod.detach = await detectDetach(minipod);
    daemon = new DaemonControl(minipod, o.image, log);
    versions.minipod = `${await minipodVersion(minipod)} (${trySh(`git -C '${REPO}' rev-parse --short HEAD`).trim()}${trySh(`git -C '${REPO}' status --porcelain src`).trim() ? ', src modified' : ''}), run -d: ${minipod.detach ? 'yes' : 'no'}`;
    Object.assign(versions, ociVersions());
    if (podman) {
      versions.podman = podmanVersion(podman);
      podmanImport(podman, rootfsDir);
    }
    const ctx: Context = {
      root,
      rounds: o.rounds,
      warmup: o.warmup,
      image: o.image,
      rootfsDir,
      minipod,
      daemon,
      podman,
      bundles: { s1: makeBundle(root, rootfsDir, 's1', S1_COMMAND) },
      log,
      retried,
      fixed,
    };
    log(`temp dir ${root}; minipod run -d ${minipod.detach ? 'available' : 'not available (attached runs)'}`);
    // The daemon, started (by its first run, as on any host), warmed up and settled: untimed.
    await daemon.use('default');

    const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
      if (!o.only.has(name)) return;
      try {
        await fn();
      } catch (err) {
        const e = err as Error;
        errors.push(`${name}: ${e.name}: ${e.message}`);
        log(`${name} FAILED: ${e.stack ?? e.message}`);
        await removeAllPods(minipod);
      }
    };
    await step('s1', async () => {
      const s1 = await scenarioOneContainer(ctx);
      rows.push(...s1.rows);
      breakdown.push(
        ...Object.entries(S1_MINIPOD_ROWS).map(([id, title]) => rowBreakdown(`s1.${id}`, title, s1.traces[id] ?? [], s1.totals[id] ?? [])),
      );
    });
    await step('bb', async () => {
      const bb = await scenarioBackToBack(ctx, { gapMs: o.bbGapMs, quietS: o.bbQuietS, blocks: 2 });
      rows.push(...bb.rows);
      breakdown.push(
        ...Object.entries(BB_MINIPOD_ROWS).map(([id, title]) => rowBreakdown(`bb.${id}`, title, bb.traces[id] ?? [], bb.totals[id] ?? [])),
      );
    });
    await step('bd', async () => {
      rows.push(...(await outsideMeasures(ctx)));
    });
    await step('s2', async () => {
      const s2 = await scenarioPod(ctx, { memoryRounds: o.memoryRounds, settleMs: o.settleMs });
      rows.push(...s2.rows);
      memory.push(...s2.memory);
    });
    await step('s4', async () => {
      const s4 = await scenarioConcurrent(ctx, { pods: o.pods, rounds: o.s4Rounds, podman: o.podmanConcurrent, settleMs: o.settleMs });
      rows.push(...s4.rows);
      memory.push(...s4.memory);
      for (const m of s4.memory) {
        for (const k of ['pss', 'rss'] as const) {
          rows.push({
            scenario: '3. memory per running pod',
            id: `s3.${k}.minipod-${o.pods}-pods`,
            tool: m.tool,
            metric: k.toUpperCase(),
            unit: 'kB',
            samples: [m[k]],
            summary: { n: 1, median: m[k], p10: m[k], p90: m[k], min: m[k], max: m[k], mean: m[k] },
            note: 'one-container pods of scenario 4: (daemon with N − daemon idle) / N + pod init',
          });
        }
      }
    });
    await step('sc', async () => {
      rows.push(...(await scenarioSeccomp(ctx)));
    });
    await step('un', async () => {
      rows.push(...(await scenarioUserns(ctx)));
    });
    await step('oc', async () => {
      rows.push(...(await scenarioOciLifecycle(ctx)));
    });
    await step('op', async () => {
      rows.push(...(await scenarioPodmanRuntime(ctx)));
    });
  } catch (err) {
    errors.push(`setup: ${(err as Error).message}`);
    log(`setup FAILED: ${(err as Error).stack}`);
  } finally {
    log('cleaning up');
    await removeAllPods(minipod);
    // Its pods are gone; it goes too (it takes the CNI bridge and chains it keeps up with it).
    for (const p of (await daemon?.shutdown()) ?? []) {
      errors.push(`cleanup: ${p}`);
      log(p);
    }
    if (podman) cleaned = await podmanCleanup(podman, podmanBefore);
    removeTree(root);
    cleaned.push(...removeNewRuntimeDirs(runtimeBefore));
    if (restoreIpForward(ipForwardBefore)) cleaned.push(`net.ipv4.ip_forward restored to ${ipForwardBefore}`);
  }

  // Teardown may finish a moment after the last command returned.
  let leaks: string[] = [];
  let unattributed: string[] = [];
  for (let i = 0; i < 50; i++) {
    const r = checkLeaks(hostBefore, root);
    leaks = [...r.ours, ...(podman ? podmanLeftovers(podmanBefore) : []), ...runtimeDirsLeft(runtimeBefore)];
    unattributed = r.unattributed;
    if (leaks.length === 0) break;
    await sleep(100);
  }
  // Something still running after the cleanup (a late CNI ADD) could turn forwarding on again.
  if (restoreIpForward(ipForwardBefore)) leaks.push(`net.ipv4.ip_forward changed after the cleanup (restored to ${ipForwardBefore})`);
  if (leaks.length > 0) log(`LEFT ON THE HOST: ${leaks.join('; ')}`);
  if (unattributed.length > 0) log(`changed on the host, not by the bench (others' pods?): ${unattributed.join('; ')}`);

  const results: Results = {
    date: new Date().toISOString(),
    durationS: (Date.now() - t0) / 1000,
    machine: {
      ...machineInfo(),
      'load avg 1/5/15 min before → after': `${loadBefore} → ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    },
    versions: toolVersions(versions),
    config: {
      rounds: o.rounds,
      warmup: o.warmup,
      'memory rounds': o.memoryRounds,
      'memory settle ms': o.settleMs,
      'concurrent pods': o.pods,
      's4 rounds': o.s4Rounds,
      scenarios: [...o.only].join('+'),
      'minipod env': 'NODE_* variables removed, as sudo does',
      'minipod daemon': 'warm (running, served pods, pool full after `daemon settle`) unless a row says otherwise',
    },
    rows,
    ratios: RATIOS.map((r) => ({ ...r, label: r.label.replace('N pods', `${o.pods} pods`), ours: r.ours.replace('-N-', `-${o.pods}-`) })),
    memory,
    fixed,
    breakdown,
    daemonAnomalies: daemon?.anomalies ?? [],
    errors,
    retried,
    leaks,
    unattributed,
    cleaned,
  };
  fs.mkdirSync(path.dirname(o.json), { recursive: true });
  fs.writeFileSync(o.json, JSON.stringify(results, null, 2) + '\n');
  writeReport(o.report, results);
  log(`wrote ${path.relative(process.cwd(), o.report)} and ${path.relative(process.cwd(), o.json)} in ${results.durationS.toFixed(0)} s`);
  return errors.length > 0 || leaks.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
