/**
 * Pure part of exec: the container's recorded process, with the caller's overrides, as an
 * ExecPlan. Everything not overridden (capabilities, no_new_privs, user, cwd, env) is the
 * container's own, so an exec'd process can do no more than the container could.
 */
import { UserError } from '../errors.js';
import type { ContainerProcessRecord as ProcessRecord, ExecPlan, ProcessSpec } from './types.js';

/** What the supervisor writes at every container start (src/state/process-record.ts). */
export type { ContainerProcessRecord as ProcessRecord } from './types.js';

export interface ExecOverrides {
  argv: string[];
  /** `K=V` entries added to, or replacing, the container's environment. */
  env?: string[];
  user?: ProcessSpec['user'];
  cwd?: string;
  /** The process gets a pty on fds 0-2 and makes it its controlling terminal. */
  terminal?: boolean;
}

/** Later entries win over earlier ones with the same name; order of first appearance is kept. */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const merged = new Map<string, string>();
  for (const entry of [...base, ...overrides]) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    merged.set(name, eq < 0 ? `${entry}=` : entry);
  }
  return [...merged.values()];
}

/** Checks `-e` values: `K=V` with a non-empty name. */
export function parseEnvFlags(values: string[], where: string): string[] {
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UserError(`${where}: environment variable "${v}" must be NAME=VALUE`, { code: 'exec.bad-env' });
  }
  return values;
}

/** `-u UID[:GID]` or `-u NAME[:GID]` (a name is looked up in the container's /etc/passwd). */
export function parseUserFlag(value: string, where: string): ProcessSpec['user'] {
  const m = /^([^:]+)(?::(\d+))?$/.exec(value);
  if (!m) throw new UserError(`${where}: user "${value}" must be UID[:GID] or NAME[:GID]`, { code: 'exec.bad-user' });
  const gid = m[2] === undefined ? undefined : Number(m[2]);
  const who = m[1]!;
  if (/^\d+$/.test(who)) return { uid: Number(who), gid };
  return { name: who, gid };
}

export function buildExecPlan(id: string, pid: number, record: ProcessRecord, o: ExecOverrides): ExecPlan {
  if (o.argv.length === 0 || o.argv[0] === '') throw new UserError(`${id}: no command to exec`, { code: 'exec.no-command' });
  const base = record.process;
  const user = o.user ?? base.user;
  const plan: ExecPlan = {
    kind: 'exec',
    id,
    mountNamespace: `/proc/${pid}/ns/mnt`,
    cgroupNamespace: `/proc/${pid}/ns/cgroup`,
    process: {
      ...base,
      args: [...o.argv],
      env: mergeEnv(base.env, o.env ?? []),
      cwd: o.cwd ?? base.cwd,
      user: { ...user },
    },
    cgroupProcs: [...record.cgroupProcs],
  };
  if (o.terminal) {
    plan.terminal = true;
    // Programs decide what to draw from TERM; the container's own value wins if it set one.
    if (!plan.process.env.some((e) => e.startsWith('TERM='))) plan.process.env.push('TERM=xterm');
  }
  return plan;
}
