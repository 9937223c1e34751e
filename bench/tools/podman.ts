/**
 * podman with private configuration and storage in the bench's temp dir (peers.md: the
 * settings this host needs), and a cleanup of what podman leaves outside of it anyway.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GuardFailed, type Timed, nowMs, run, sh, trySh } from '../exec.js';

export const PODMAN_IMAGE = 'localhost/minipod-bench-busybox:latest';

export interface PodmanEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
}

export function podmanEnv(root: string): PodmanEnv {
  const dir = path.join(root, 'podman');
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'containers.conf');
  const storage = path.join(dir, 'storage.conf');
  // Why each line: see /work/shared/notes/peers.md. tmp_dir and network_config_dir keep
  // libpod's and netavark's files in our dir instead of /run/libpod and /etc/containers.
  fs.writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${path.join(dir, 'tmp')}"`,
      '[network]',
      `network_config_dir = "${path.join(dir, 'networks')}"`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    storage,
    ['[storage]', 'driver = "overlay"', `runroot = "${path.join(dir, 'runroot')}"`, `graphroot = "${path.join(dir, 'graph')}"`, ''].join(
      '\n',
    ),
  );
  return { dir, env: { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage } };
}

export function podmanImport(p: PodmanEnv, rootfsDir: string): void {
  sh(`tar -C '${rootfsDir}' -c . | podman import - ${PODMAN_IMAGE} >/dev/null`, p.env);
}

export function podmanVersion(p: PodmanEnv): string {
  return sh('podman --version', p.env).trim();
}

async function podman(p: PodmanEnv, args: string[]): Promise<Timed> {
  const r = await run('podman', args, { env: p.env });
  if (r.code !== 0) throw new GuardFailed(`podman ${args.join(' ')}: code=${r.code}\n${r.stderr.slice(-1500)}`);
  return r;
}

export interface PodmanPod {
  name: string;
  containers: string[];
  upMs: number;
}

/** `pod create` + `run -d` per container, each container with its own command. */
export async function podmanUp(p: PodmanEnv, name: string, containers: { name: string; command: string[] }[]): Promise<PodmanPod> {
  const t0 = nowMs();
  await podman(p, ['pod', 'create', '--name', name]);
  const names: string[] = [];
  for (const c of containers) {
    const cname = `${name}-${c.name}`;
    await podman(p, ['run', '-d', '--pod', name, '--name', cname, PODMAN_IMAGE, ...c.command]);
    names.push(cname);
  }
  return { name, containers: names, upMs: nowMs() - t0 };
}

/** Guard: each container printed its marker (podman logs, untimed). */
export async function podmanExpectMarkers(p: PodmanEnv, pod: PodmanPod, markers: string[]): Promise<void> {
  let text = '';
  for (const c of pod.containers) text += (await podman(p, ['logs', c])).stdout;
  const missing = markers.filter((m) => !text.includes(m));
  if (missing.length > 0) throw new GuardFailed(`podman pod ${pod.name}: markers missing: ${missing.join(', ')}`);
}

export async function podmanDown(p: PodmanEnv, pod: PodmanPod): Promise<number> {
  const t0 = nowMs();
  await podman(p, ['pod', 'rm', '-f', '-t', '0', pod.name]);
  return nowMs() - t0;
}

/** Pids of the pod's conmons and of its infra process (catatonit), from podman itself. */
export async function podmanPodProcesses(
  p: PodmanEnv,
  pod: PodmanPod,
): Promise<{ conmon: number[]; infra: number[]; containers: number[] }> {
  const inspect = JSON.parse((await podman(p, ['pod', 'inspect', pod.name])).stdout) as
    | { Containers: { Id: string; Name: string }[]; InfraContainerID?: string }
    | { Containers: { Id: string; Name: string }[]; InfraContainerID?: string }[];
  const info = Array.isArray(inspect) ? inspect[0]! : inspect;
  const ids = info.Containers.map((c) => c.Id);
  const conmon: number[] = [];
  const infra: number[] = [];
  const containers: number[] = [];
  for (const id of ids) {
    const r = await podman(p, ['inspect', '--format', '{{.State.ConmonPid}} {{.State.Pid}}', id]);
    const [cp, pid] = r.stdout.trim().split(/\s+/).map(Number);
    conmon.push(cp!);
    if (id === info.InfraContainerID) infra.push(pid!);
    else containers.push(pid!);
  }
  return { conmon, infra, containers };
}

// ---- leftovers ----

/** What podman may create outside its private dirs; recorded before the bench starts. */
export interface PodmanHostBefore {
  paths: Record<string, boolean>;
  libpodCgroups: boolean;
  netnsMount: boolean;
  netavarkChains: boolean;
  nftTables: string[];
  /** podman's bridges (CNI's cni-podman0, netavark's podman0): a CNI DEL never removes them. */
  bridges: string[];
}

/** Created by podman (or netavark) on first use even with private storage and config. */
const PODMAN_PATHS = ['/run/containers', '/run/libpod', '/var/lib/containers', '/etc/containers/networks', '/run/netns'];

function libpodCgroups(): string[] {
  return fs
    .readdirSync('/sys/fs/cgroup')
    .map((h) => path.join('/sys/fs/cgroup', h, 'libpod_parent'))
    .filter((d) => fs.existsSync(d));
}

function isMountPoint(p: string): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === p);
}

function podmanBridges(): string[] {
  return trySh('ip -o link show type bridge')
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((name) => /^(cni-)?podman\d+$/.test(name));
}

function nftTables(): string[] {
  return trySh('nft list tables')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export function podmanHostBefore(): PodmanHostBefore {
  return {
    paths: Object.fromEntries(PODMAN_PATHS.map((p) => [p, fs.existsSync(p)])),
    libpodCgroups: libpodCgroups().length > 0,
    netnsMount: isMountPoint('/run/netns'),
    netavarkChains: /NETAVARK/.test(trySh('iptables-save')),
    nftTables: nftTables(),
    bridges: podmanBridges(),
  };
}

/** Removes podman's pods, storage and host leftovers that were not there before the bench. */
export async function podmanCleanup(p: PodmanEnv, before: PodmanHostBefore): Promise<string[]> {
  const done: string[] = [];
  trySh('podman pod rm -a -f -t 0 >/dev/null 2>&1; podman rm -a -f -t 0 >/dev/null 2>&1; podman system reset -f >/dev/null 2>&1', p.env);
  // Storage may still hold overlay mounts if podman failed half-way.
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const mp = line.split(' ')[4];
    if (mp && mp.startsWith(p.dir + '/')) trySh(`umount -l '${mp}'`);
  }
  if (!before.libpodCgroups) {
    for (const d of libpodCgroups()) {
      // Children first; rmdir only removes empty cgroups, so nothing running can be hit.
      trySh(`find '${d}' -depth -type d -exec rmdir {} \\; 2>/dev/null`);
      done.push(d);
    }
  }
  if (!before.netavarkChains) {
    // Rules that jump to netavark's chains, then the chains themselves.
    const rules = trySh('iptables-save').split('\n');
    let table = '';
    for (const l of rules) {
      if (l.startsWith('*')) table = l.slice(1);
      else if (l.startsWith('-A ') && /-j NETAVARK/.test(l)) trySh(`iptables -t ${table} ${l.replace(/^-A /, '-D ')}`);
    }
    for (const l of rules) {
      if (l.startsWith('*')) table = l.slice(1);
      const chain = /^:(NETAVARK\S*)/.exec(l)?.[1];
      if (chain) trySh(`iptables -t ${table} -F ${chain}`);
    }
    for (const l of rules) {
      if (l.startsWith('*')) table = l.slice(1);
      const chain = /^:(NETAVARK\S*)/.exec(l)?.[1];
      if (chain) trySh(`iptables -t ${table} -X ${chain}`);
    }
    done.push('netavark iptables chains');
  }
  // nft tables iptables-nft created for netavark: drop new ones that hold no rules any more.
  for (const t of nftTables()) {
    if (before.nftTables.includes(t)) continue;
    const [, family, name] = t.split(/\s+/);
    const body = trySh(`nft list table ${family} ${name}`);
    const hasRules = body.split('\n').some((l) => /\b(jump|goto|accept|drop|masquerade|dnat|snat|counter)\b/.test(l) && !/policy/.test(l));
    if (!hasRules) {
      trySh(`nft delete table ${family} ${name}`);
      done.push(`nft ${t}`);
    }
  }
  for (const b of podmanBridges()) {
    if (before.bridges.includes(b)) continue;
    trySh(`ip link del '${b}'`);
    done.push(`bridge ${b}`);
  }
  if (!before.netnsMount && isMountPoint('/run/netns')) {
    trySh('umount /run/netns');
    done.push('/run/netns mount');
  }
  for (const p2 of PODMAN_PATHS) {
    if (before.paths[p2] || !fs.existsSync(p2)) continue;
    // /run/netns only when empty (named netns of others may live there); podman's own dirs whole.
    if (p2 === '/run/netns') trySh(`rmdir '${p2}'`);
    else fs.rmSync(p2, { recursive: true, force: true });
    if (!fs.existsSync(p2)) done.push(p2);
  }
  return done;
}

/** What is still there from podman (for the final guard). */
export function podmanLeftovers(before: PodmanHostBefore): string[] {
  const out: string[] = [];
  if (!before.libpodCgroups) out.push(...libpodCgroups());
  for (const p of PODMAN_PATHS) if (!before.paths[p] && fs.existsSync(p)) out.push(p);
  if (!before.netnsMount && isMountPoint('/run/netns')) out.push('/run/netns mount');
  if (!before.netavarkChains && /NETAVARK/.test(trySh('iptables-save'))) out.push('NETAVARK iptables chains');
  for (const t of nftTables()) if (!before.nftTables.includes(t)) out.push(`nft ${t}`);
  for (const b of podmanBridges()) if (!before.bridges.includes(b)) out.push(`bridge ${b}`);
  const procs = trySh("ps -eo args= | grep -E '^(/usr/bin/)?conmon ' | grep -c minipod-bench || true").trim();
  if (procs && procs !== '0') out.push(`${procs} conmon processes`);
  return out;
}
