/**
 * `update` (runc's update.go): new limits for a running container, as a LinuxResources JSON
 * (`--resources FILE`, `-` for stdin: what containerd's shim sends) or runc's flags
 * (`--memory 256m`, `--pids-limit 100`, ...). Both become one `linux.resources` object, which
 * the config's own translation (src/oci/config/resources.ts) turns into cgroup writes, so a
 * value means the same at create and at update.
 */
import { UserError } from '../../errors.js';

/** runc update's flags that take a value, and where each goes in LinuxResources. */
export const UPDATE_FLAGS: Readonly<
  Record<string, { section: 'memory' | 'cpu' | 'pids' | 'blockIO'; key: string; kind: 'bytes' | 'int' | 'uint' | 'string' }>
> = {
  memory: { section: 'memory', key: 'limit', kind: 'bytes' },
  'memory-swap': { section: 'memory', key: 'swap', kind: 'bytes' },
  'memory-reservation': { section: 'memory', key: 'reservation', kind: 'bytes' },
  'kernel-memory': { section: 'memory', key: 'kernel', kind: 'bytes' },
  'kernel-memory-tcp': { section: 'memory', key: 'kernelTCP', kind: 'bytes' },
  'cpu-shares': { section: 'cpu', key: 'shares', kind: 'uint' },
  'cpu-quota': { section: 'cpu', key: 'quota', kind: 'int' },
  'cpu-period': { section: 'cpu', key: 'period', kind: 'uint' },
  'cpu-rt-runtime': { section: 'cpu', key: 'realtimeRuntime', kind: 'int' },
  'cpu-rt-period': { section: 'cpu', key: 'realtimePeriod', kind: 'uint' },
  'cpuset-cpus': { section: 'cpu', key: 'cpus', kind: 'string' },
  'cpuset-mems': { section: 'cpu', key: 'mems', kind: 'string' },
  'pids-limit': { section: 'pids', key: 'limit', kind: 'int' },
  'blkio-weight': { section: 'blockIO', key: 'weight', kind: 'uint' },
};

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

/** runc's (docker's units.RAMInBytes) sizes: `1024`, `256m`, `1.5g`, and `-1` for unlimited. */
export function parseBytes(flag: string, value: string): number {
  if (value.trim() === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?b?)$/i.exec(value.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new UserError(`invalid value "${value}" for flag --${flag}: a size such as 1048576, 512k, 256m or 1g`);
  return Math.floor(Number(m[1]) * unit);
}

function parseNumber(flag: string, value: string, signed: boolean): number {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(value.trim())) {
    throw new UserError(`invalid value "${value}" for flag --${flag}: not ${signed ? 'an integer' : 'a non-negative integer'}`);
  }
  return Number(value.trim());
}

/** The flags given, as a LinuxResources object (sections only for what was given). */
export function resourcesFromFlags(values: ReadonlyMap<string, string>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [flag, value] of values) {
    const spec = UPDATE_FLAGS[flag];
    if (!spec) continue;
    let v: unknown;
    if (spec.kind === 'bytes') v = parseBytes(flag, value);
    else if (spec.kind === 'string') v = value;
    else v = parseNumber(flag, value, spec.kind === 'int');
    (out[spec.section] ??= {})[spec.key] = v;
  }
  return out;
}

/**
 * The JSON of `--resources`: a LinuxResources object. runc takes the same fields as config.json's
 * `linux.resources`; devices are not updatable (runc ignores them, we refuse them by name).
 */
export function parseResourcesJson(text: string, source: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UserError(`--resources ${source}: not JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError(`--resources ${source}: not a LinuxResources object`);
  }
  const r = parsed as Record<string, unknown>;
  if (Array.isArray(r.devices) && r.devices.length > 0) {
    throw new UserError(`--resources ${source}: devices: the devices cgroup cannot be updated (set it at create)`);
  }
  const { devices: _devices, ...rest } = r;
  return rest;
}

/** The flags' values over the file's: runc applies the flags after --resources. */
export function mergeResources(base: Record<string, unknown>, flags: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [section, values] of Object.entries(flags)) {
    const prior = out[section];
    out[section] = { ...(prior && typeof prior === 'object' ? (prior as Record<string, unknown>) : {}), ...values };
  }
  return out;
}

interface Write {
  controller: string;
  file: string;
  value: string;
}

/**
 * cgroup v1 refuses a memory limit above memory.memsw.limit_in_bytes (memory plus swap) with
 * EINVAL, and a memsw limit below the memory limit too: a raise writes memsw first, and a raise
 * of the limit alone raises memsw with it (swap stays what it was: none beyond the limit).
 * `currentMemsw` is the cgroup's memsw limit now, undefined when the host has none.
 */
export function orderV1MemoryWrites<W extends Write>(writes: W[], currentMemsw: number | undefined): W[] {
  const limit = writes.find((w) => w.file === 'memory.limit_in_bytes');
  if (!limit || currentMemsw === undefined) return writes;
  const newLimit = Number(limit.value);
  const memsw = writes.find((w) => w.file === 'memory.memsw.limit_in_bytes');
  const rest = writes.filter((w) => w !== limit && w !== memsw);
  const raising = newLimit === -1 || newLimit > currentMemsw;
  if (memsw) return raising ? [memsw, limit, ...rest] : [limit, memsw, ...rest];
  if (!raising) return writes;
  return [{ ...limit, file: 'memory.memsw.limit_in_bytes' }, limit, ...rest];
}
