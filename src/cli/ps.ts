/** `minipod ps` and `minipod inspect`: read-only views of the pods' state files. */
import { minipodPaths } from '../paths.js';
import type { CgroupManager, EffectiveLimits } from '../cgroups/manager.js';
import { hostRuntime, requireRoot } from './common.js';
import { type PodState, isAlive, isTerminalPhase, listPodNames, readPodState, requirePodState } from '../state/pod-state.js';

/** A pod whose supervisor is gone cannot be trusted to be what its file says. */
export function effectivePhase(state: PodState): string {
  if (!isAlive(state.supervisor) && !isTerminalPhase(state.phase)) return 'Unknown';
  return state.phase;
}

export function age(createdAt: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(createdAt)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function portsOf(state: PodState): string {
  const net = state.network as { ports?: { hostIP: string; hostPort: number; containerPort: number; protocol: string }[] } | undefined;
  return (net?.ports ?? []).map((p) => `${p.hostIP || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol.toLowerCase()}`).join(',');
}

/** `Deployment/web` for a pod a workload object made; empty for a Pod of its own. */
export function ownerOf(state: Pick<PodState, 'owner'>): string {
  return state.owner ? `${state.owner.kind}/${state.owner.name}` : '';
}

export function psRows(states: PodState[]): string[][] {
  return states.map((s) => {
    // As kubectl: sidecars (restartable init containers) count in READY and RESTARTS.
    const apps = s.containers.filter((c) => !c.init || c.sidecar);
    const ready = apps.filter((c) => c.state === 'running' && c.ready).length;
    const restarts = apps.reduce((n, c) => n + c.restartCount, 0);
    const phase = effectivePhase(s);
    const ports = isTerminalPhase(s.phase) ? '' : portsOf(s);
    return [s.name, phase, `${ready}/${apps.length}`, String(restarts), age(s.createdAt), ownerOf(s), ports];
  });
}

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function psCommand(options: { format?: string; all?: boolean }): number {
  requireRoot();
  const paths = minipodPaths();
  const states = listPodNames(paths)
    .flatMap((n) => readPodState(paths, n) ?? [])
    .filter((s) => options.all || !isTerminalPhase(s.phase));
  if (options.format === 'json') {
    process.stdout.write(
      JSON.stringify(
        states.map((s) => ({ ...s, phase: effectivePhase(s) })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  process.stdout.write(renderTable(['NAME', 'STATUS', 'READY', 'RESTARTS', 'AGE', 'OWNER', 'PORTS'], psRows(states)));
  return 0;
}

/** The limits the kernel enforces right now, read back from the cgroup files. */
function effectiveLimits(cgroups: CgroupManager, pod: string, child?: string): EffectiveLimits | undefined {
  try {
    return cgroups.effectiveLimits(pod, child);
  } catch {
    return undefined; // The pod has no cgroups (any more).
  }
}

export function inspectCommand(pod: string): number {
  requireRoot();
  const { paths, cgroups } = hostRuntime();
  const state = requirePodState(paths, pod);
  const live = isAlive(state.init);
  const out = {
    ...state,
    phase: effectivePhase(state),
    limits: live ? effectiveLimits(cgroups, pod) : undefined,
    containers: state.containers.map((c) => ({
      ...c,
      limits: live && c.state === 'running' ? effectiveLimits(cgroups, pod, c.name) : undefined,
    })),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return 0;
}
