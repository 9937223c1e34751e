/**
 * minipod as an OCI runtime (bin/minipod-oci) against runc, on the same bundle (scenario 1's:
 * busybox, read-only root, `sh -c 'echo MARKER'`), alternating within each round:
 *
 *  - `oc`: the life cycle a client drives, one call each: `create` (the container inherits its
 *    stdout pipe), `start`, wait (the pipe closes when the container exits), `delete`.
 *  - `op`: `podman run --rm --network none` of the same image with `--runtime minipod-oci` and
 *    with `--runtime runc` (conmon between podman and the runtime, as users run it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GuardFailed, nowMs, run, type Timed } from '../exec.js';
import { summarize } from '../stats.js';
import { REPO } from '../tools/minipod.js';
import { PODMAN_IMAGE } from '../tools/podman.js';
import { type Context, type Row, withRetry } from '../types.js';
import { S1_COMMAND, S1_MARKER } from './one-container.js';

export const MINIPOD_OCI = path.join(REPO, 'bin/minipod-oci');

interface Runtime {
  id: string;
  bin: string;
  root: string;
}

/** The runtime's command, throwing with its output unless it exits 0. */
async function call(rt: Runtime, args: string[]): Promise<Timed> {
  const r = await run(rt.bin, ['--root', rt.root, ...args]);
  if (r.code !== 0) throw new GuardFailed(`${rt.bin} ${args.join(' ')}: code=${r.code}\n${r.stderr.slice(-1000)}`);
  return r;
}

/** create, start, wait for the container's stdout to close, delete: ms from first spawn to delete's exit. */
async function lifecycle(rt: Runtime, bundle: string, id: string): Promise<number> {
  const t0 = nowMs();
  const create = spawn(rt.bin, ['--root', rt.root, 'create', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  create.stdout.on('data', (d: Buffer) => (out += d.toString()));
  create.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const stdoutClosed = new Promise<void>((resolve) => create.stdout.once('close', () => resolve()));
  const code = await new Promise<number | null>((resolve) => create.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new GuardFailed(`${rt.id} create: code=${code}\n${err.slice(-1000)}`);
  await call(rt, ['start', id]);
  await stdoutClosed;
  await call(rt, ['delete', id]);
  const ms = nowMs() - t0;
  if (!out.includes(S1_MARKER)) throw new GuardFailed(`${rt.id}: the container did not print ${S1_MARKER}: ${out.slice(-300)}`);
  return ms;
}

async function podmanRunRm(ctx: Context, runtime: string): Promise<number> {
  const r = await run('podman', ['run', '--rm', '--network', 'none', '--runtime', runtime, PODMAN_IMAGE, ...S1_COMMAND], {
    env: ctx.podman!.env,
  });
  if (r.code !== 0 || !r.stdout.includes(S1_MARKER)) {
    throw new GuardFailed(`podman run --runtime ${runtime}: code=${r.code}\n${r.stdout.slice(-300)}\n${r.stderr.slice(-1000)}`);
  }
  return r.ms;
}

function row(scenario: string, id: string, tool: string, metric: string, samples: number[]): Row {
  return { scenario, id, tool, metric, unit: 'ms', samples, summary: summarize(samples) };
}

async function alternate(ctx: Context, name: string, tools: [string, (i: number) => Promise<number>][]): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(tools.map(([id]) => [id, []]));
  for (let i = 0; i < ctx.warmup + ctx.rounds; i++) {
    const measured = i >= ctx.warmup;
    const order = i % 2 === 0 ? tools : [...tools].reverse();
    for (const [id, once] of order) {
      const ms = await withRetry(ctx, `${name} ${id} round ${i}`, () => once(i));
      if (measured) samples.get(id)!.push(ms);
    }
    ctx.log(
      `${name} ${measured ? `round ${i - ctx.warmup + 1}/${ctx.rounds}` : 'warm-up'}: ${tools.map(([id]) => `${id} ${samples.get(id)!.at(-1)?.toFixed(1) ?? '-'}`).join(', ')}`,
    );
  }
  return samples;
}

/** `oc`: create+start+wait+delete of one container, minipod-oci and runc on one bundle. */
export async function scenarioOciLifecycle(ctx: Context): Promise<Row[]> {
  const roots = path.join(ctx.root, 'oci-roots');
  fs.mkdirSync(roots, { recursive: true });
  const minipod: Runtime = { id: 'minipod-oci', bin: MINIPOD_OCI, root: path.join(roots, 'minipod') };
  const runc: Runtime = { id: 'runc', bin: 'runc', root: path.join(roots, 'runc') };
  const bundle = ctx.bundles.s1.dir;
  if (JSON.stringify(JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).process.args) !== JSON.stringify(S1_COMMAND)) {
    throw new GuardFailed('the s1 bundle does not run the s1 command');
  }
  const samples = await alternate(ctx, 'oci life cycle', [
    ['minipod-oci', (i) => lifecycle(minipod, bundle, `mpb-oc-m${i}`)],
    ['runc', (i) => lifecycle(runc, bundle, `mpb-oc-r${i}`)],
  ]);
  const scenario = '7. minipod as an OCI runtime: one container, create + start + wait + delete';
  return [
    row(scenario, 'oc.minipod-oci', 'bin/minipod-oci', 'create to delete', samples.get('minipod-oci')!),
    row(scenario, 'oc.runc', 'runc', 'create to delete', samples.get('runc')!),
  ];
}

/** `op`: `podman run --rm` with minipod-oci and with runc as its runtime. */
export async function scenarioPodmanRuntime(ctx: Context): Promise<Row[]> {
  if (!ctx.podman) throw new GuardFailed('podman is not available (or --no-podman): scenario op needs it');
  const samples = await alternate(ctx, 'podman --runtime', [
    ['minipod-oci', () => podmanRunRm(ctx, MINIPOD_OCI)],
    ['runc', () => podmanRunRm(ctx, 'runc')],
  ]);
  const scenario = '8. podman run --rm (network none) with minipod-oci / runc as its runtime';
  return [
    row(scenario, 'op.podman-minipod-oci', 'podman run --runtime bin/minipod-oci', 'start to exit', samples.get('minipod-oci')!),
    row(scenario, 'op.podman-runc', 'podman run --runtime runc', 'start to exit', samples.get('runc')!),
  ];
}
