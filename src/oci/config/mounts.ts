/**
 * config.json `mounts` -> MountSteps (runc's option table, libcontainer/specconv). Options are
 * mount flags (`nosuid`, `ro`...), propagation (`rprivate`, `shared`...), `bind`/`rbind`, or
 * filesystem data (`mode=755`, `size=65536k`), passed on as the data string in order.
 */
import path from 'node:path';
import type { MountFlagName } from '../../../native-bindings/constants.js';
import type { MountStep } from '../../plan/types.js';
import { checkString, checkStrings, configError, isObject, unsupported } from './errors.js';

/** option -> [flag, set (true) or clear (false)]. */
const FLAG_OPTIONS: Record<string, [MountFlagName, boolean] | null> = {
  defaults: null,
  rw: ['RDONLY', false],
  ro: ['RDONLY', true],
  suid: ['NOSUID', false],
  nosuid: ['NOSUID', true],
  dev: ['NODEV', false],
  nodev: ['NODEV', true],
  exec: ['NOEXEC', false],
  noexec: ['NOEXEC', true],
  sync: ['SYNCHRONOUS', true],
  async: ['SYNCHRONOUS', false],
  dirsync: ['DIRSYNC', true],
  mand: ['MANDLOCK', true],
  nomand: ['MANDLOCK', false],
  atime: ['NOATIME', false],
  noatime: ['NOATIME', true],
  diratime: ['NODIRATIME', false],
  nodiratime: ['NODIRATIME', true],
  relatime: ['RELATIME', true],
  norelatime: ['RELATIME', false],
  strictatime: ['STRICTATIME', true],
  nostrictatime: ['STRICTATIME', false],
  nosymfollow: ['NOSYMFOLLOW', true],
  symfollow: ['NOSYMFOLLOW', false],
  silent: ['SILENT', true],
  loud: ['SILENT', false],
};

const PROPAGATION: Record<string, MountFlagName[]> = {
  private: ['PRIVATE'],
  rprivate: ['REC', 'PRIVATE'],
  shared: ['SHARED'],
  rshared: ['REC', 'SHARED'],
  slave: ['SLAVE'],
  rslave: ['REC', 'SLAVE'],
  unbindable: ['UNBINDABLE'],
  runbindable: ['REC', 'UNBINDABLE'],
};

/** Options runc knows that minipod-oci does not implement: refused by name. */
const REFUSED = new Set([
  'idmap',
  'ridmap',
  'rro',
  'rrw',
  'rnosuid',
  'rsuid',
  'rnodev',
  'rdev',
  'rnoexec',
  'rexec',
  'rnoatime',
  'ratime',
  'lazytime',
  'nolazytime',
  'remount',
  'tmpcopyup',
  'copy-symlink',
]);

export function propagationFlags(field: string, value: string): MountFlagName[] {
  const p = PROPAGATION[value];
  if (!p) throw configError(field, `"${value}" is not a propagation (${Object.keys(PROPAGATION).join(', ')})`);
  return p;
}

export interface MountContext {
  bundle: string;
  /** What a bind source is; undefined when it does not exist. */
  statKind(hostPath: string): 'dir' | 'file' | undefined;
  /** Destinations the pod path says are files (the minipod.io/file-mounts annotation). */
  fileDestinations?: ReadonlySet<string>;
}

export function translateMount(field: string, raw: unknown, ctx: MountContext): MountStep {
  if (!isObject(raw)) throw configError(field, 'is not an object');
  const destination = path.posix.resolve('/', checkString(`${field}.destination`, raw.destination));
  if (raw.uidMappings !== undefined) throw unsupported(`${field}.uidMappings`, 'idmapped mounts are not supported by minipod-oci');
  if (raw.gidMappings !== undefined) throw unsupported(`${field}.gidMappings`, 'idmapped mounts are not supported by minipod-oci');
  const options = raw.options === undefined ? [] : checkStrings(`${field}.options`, raw.options);
  let type = raw.type === undefined ? '' : checkString(`${field}.type`, raw.type);
  let source = raw.source === undefined ? '' : checkString(`${field}.source`, raw.source);
  const flags: MountFlagName[] = [];
  const propagation: MountFlagName[] = [];
  const data: string[] = [];
  let readOnly = false;
  let bind: 'bind' | 'rbind' | undefined;
  options.forEach((option, i) => {
    const at = `${field}.options[${i}]`;
    if (option === 'bind' || option === 'rbind') {
      bind = option;
      return;
    }
    if (REFUSED.has(option)) throw unsupported(at, `"${option}" is not supported by minipod-oci`);
    if (option in PROPAGATION) {
      propagation.push(...PROPAGATION[option]!.filter((f) => !propagation.includes(f)));
      return;
    }
    if (Object.hasOwn(FLAG_OPTIONS, option)) {
      const entry = FLAG_OPTIONS[option];
      if (!entry) return;
      const [flag, set] = entry;
      if (flag === 'RDONLY') readOnly = set;
      else if (set && !flags.includes(flag)) flags.push(flag);
      else if (!set && flags.includes(flag)) flags.splice(flags.indexOf(flag), 1);
      return;
    }
    data.push(option);
  });
  if (type === 'bind') bind ??= 'bind';
  if (bind) {
    if (type !== '' && type !== 'bind' && type !== 'none') {
      // runc binds whatever the type says when the options say bind.
      type = 'bind';
    }
    if (source === '') throw configError(`${field}.source`, 'a bind mount needs a source');
    source = path.resolve(ctx.bundle, source);
    const kind = ctx.fileDestinations?.has(destination) ? 'file' : (ctx.statKind(source) ?? undefined);
    if (kind === undefined) throw configError(`${field}.source`, `${source}: no such file or directory`);
    if (data.length > 0) throw configError(`${field}.options`, `"${data[0]}" is not a mount flag (a bind takes no filesystem options)`);
    const step: MountStep = { source, destination, fstype: 'bind', flags, destinationKind: kind, readOnly };
    if (bind === 'bind') step.nonRecursive = true;
    if (propagation.length > 0) step.propagation = propagation;
    return step;
  }
  if (type === '') throw configError(`${field}.type`, 'is required for a mount that is not a bind');
  if (type === 'cgroup' || type === 'cgroup2') {
    // Expanded by the executor once the container's cgroup exists (see expandCgroupMounts).
    source = type;
  }
  const step: MountStep = { source: source || type, destination, fstype: type, flags, destinationKind: 'dir', readOnly };
  if (data.length > 0) step.data = data.join(',');
  if (propagation.length > 0) step.propagation = propagation;
  return step;
}

const FLAG_TO_OPTION = new Map<MountFlagName, string>(
  Object.entries(FLAG_OPTIONS)
    .filter((e): e is [string, [MountFlagName, boolean]] => e[1] !== null && e[1][1])
    .map(([option, [flag]]) => [flag, option]),
);

/** `['REC', 'PRIVATE']` -> `rprivate`. */
export function propagationOption(flags: readonly MountFlagName[]): string | undefined {
  const kind = flags.find((f) => f !== 'REC');
  return kind && `${flags.includes('REC') ? 'r' : ''}${kind.toLowerCase()}`;
}

/** The inverse, for the pod path (ociConfigFromPlan). */
export function mountToOci(step: MountStep): { destination: string; source: string; type: string; options: string[] } {
  const options: string[] = [];
  if (step.fstype === 'bind') options.push(step.nonRecursive ? 'bind' : 'rbind');
  for (const f of step.flags) {
    const o = FLAG_TO_OPTION.get(f);
    if (!o) throw new Error(`mount ${step.destination}: flag ${f} has no OCI option`);
    options.push(o);
  }
  if (step.readOnly) options.push('ro');
  const propagation = step.propagation && propagationOption(step.propagation);
  if (propagation) options.push(propagation);
  if (step.data) options.push(...step.data.split(','));
  return { destination: step.destination, source: step.source, type: step.fstype, options };
}
