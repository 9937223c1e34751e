/**
 * The process `exec` runs (runc's exec.go getProcess): either the whole of `--process FILE`
 * (a config.json `process` object, what podman's conmon writes), or the container's own
 * config.json process with the command after the id and the flags laid over it: `--env`
 * appended, `--cwd`, `--user uid[:gid]`, `--additional-gids`, `--cap` added to the bounding,
 * effective and permitted sets (and ambient when the process has inheritable ones),
 * `--no-new-privs`, `--tty`, `--apparmor`, `--process-label`. Either way the result goes
 * through config.json's own process translation, so exec accepts and refuses exactly what
 * create does.
 */
import { UserError } from '../../errors.js';
import type { ProcessSpec } from '../../plan/types.js';
import { capabilityName, translateProcess, type TranslatedProcess } from '../config/process.js';

export interface ExecFlags {
  /** The command after the container id. */
  args: string[];
  env: string[];
  cwd?: string;
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivs: boolean;
  tty: boolean;
  apparmor?: string;
  processLabel?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function uint(what: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 2 ** 32 - 1) throw new UserError(`${what}: "${value}" is not a numeric id`);
  return Number(value);
}

/** `--user uid[:gid]`: runc takes numbers only (no name lookup in the container). */
export function parseExecUser(value: string): { uid: number; gid?: number } {
  const [u, g, extra] = value.split(':');
  if (extra !== undefined || u === undefined || u === '') throw new UserError(`--user: "${value}" is not uid[:gid]`);
  const out: { uid: number; gid?: number } = { uid: uint('--user', u) };
  if (g !== undefined) out.gid = uint('--user', g);
  return out;
}

/** `--process FILE`'s JSON, translated as config.json's `process` is. */
export function execProcessFromJson(text: string, source: string): TranslatedProcess {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`--process ${source}: not JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw new UserError(`--process ${source}: not a process object`);
  try {
    return translateProcess(raw);
  } catch (err) {
    throw new UserError(`--process ${source}: ${(err as Error).message}`, { cause: err });
  }
}

/** The container's config.json process with the exec flags over it. */
export function execProcessFromFlags(configProcess: unknown, f: ExecFlags): TranslatedProcess {
  if (f.args.length === 0) throw new UserError('exec needs a command after the container id (or --process)');
  const base = isObject(configProcess) ? structuredClone(configProcess) : {};
  const raw: Record<string, unknown> = { ...base, args: [...f.args], terminal: f.tty };
  const env = Array.isArray(base.env) ? (base.env as unknown[]) : [];
  for (const e of f.env) {
    if (!e.includes('=')) throw new UserError(`--env: "${e}" is not KEY=VALUE`);
  }
  raw.env = [...env, ...f.env];
  if (f.cwd !== undefined) raw.cwd = f.cwd;
  const user: Record<string, unknown> = isObject(base.user) ? { ...base.user } : { uid: 0, gid: 0 };
  if (f.user !== undefined) {
    const parsed = parseExecUser(f.user);
    user.uid = parsed.uid;
    if (parsed.gid !== undefined) user.gid = parsed.gid;
  }
  if (f.additionalGids.length > 0) user.additionalGids = f.additionalGids.map((g) => uint('--additional-gids', g));
  raw.user = user;
  if (f.caps.length > 0) {
    const caps: Record<string, unknown> = isObject(base.capabilities) ? { ...base.capabilities } : {};
    const add = (set: string): void => {
      const list = Array.isArray(caps[set]) ? (caps[set] as string[]) : [];
      caps[set] = [...list, ...f.caps.filter((c) => !list.includes(c))];
    };
    for (const set of ['bounding', 'effective', 'permitted']) add(set);
    // Ambient needs inheritable; runc raises ambient only when the process has inheritable ones.
    if (Array.isArray(caps.inheritable) && caps.inheritable.length > 0) add('ambient');
    raw.capabilities = caps;
  }
  if (f.noNewPrivs) raw.noNewPrivileges = true;
  if (f.apparmor !== undefined) raw.apparmorProfile = f.apparmor;
  if (f.processLabel !== undefined) raw.selinuxLabel = f.processLabel;
  // The container's console size is not the exec's: a tty exec gets the caller's or none.
  delete raw.consoleSize;
  return translateProcess(raw);
}

/**
 * The kernel raises an ambient capability only when it is permitted and inheritable (runc's
 * default spec lists ambient ones without inheritable): those are dropped, as create drops
 * them, and named in the warning returned.
 */
export function dropUnraisableAmbient(spec: ProcessSpec): string | undefined {
  const caps = spec.capabilities;
  const lost = caps.ambient.filter((b) => !caps.permitted.includes(b) || !caps.inheritable.includes(b));
  if (lost.length === 0) return undefined;
  caps.ambient = caps.ambient.filter((b) => !lost.includes(b));
  return `process.capabilities.ambient: ${lost.map(capabilityName).join(', ')} not raised (an ambient capability must be permitted and inheritable)`;
}
