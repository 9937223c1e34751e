/**
 * config.json `process` -> the plan's ProcessSpec: argv, env, cwd, numeric user with exactly
 * the additional groups given (no /etc/group lookup: runc's semantics), capability sets by
 * name, rlimits, no_new_privs, oom_score_adj, umask, AppArmor/SELinux labels.
 */
import path from 'node:path';
import { CAPABILITIES, RLIMITS } from '../../../native-bindings/constants.js';
import type { LsmLabel, ProcessSpec } from '../../plan/types.js';
import { checkInt, checkString, checkStrings, checkUint, configError, isObject, unsupported } from './errors.js';

const CAP_SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

export function capabilityBits(field: string, names: unknown): number[] {
  const list = names === undefined || names === null ? [] : checkStrings(field, names);
  const bits: number[] = [];
  list.forEach((name, i) => {
    const bit = (CAPABILITIES as readonly string[]).indexOf(name.replace(/^CAP_/, ''));
    if (!name.startsWith('CAP_') || bit < 0) throw configError(`${field}[${i}]`, `unknown capability "${name}"`);
    if (!bits.includes(bit)) bits.push(bit);
  });
  return bits;
}

export function capabilityName(bit: number): string {
  return `CAP_${CAPABILITIES[bit]}`;
}

export interface TranslatedProcess {
  spec: ProcessSpec;
  terminal: boolean;
  consoleSize?: { height: number; width: number };
}

export function translateProcess(raw: unknown): TranslatedProcess {
  if (!isObject(raw)) throw configError('process', 'is required (an object) for create');
  for (const key of ['commandLine', 'ioPriority', 'scheduler', 'execCPUAffinity']) {
    if (raw[key] !== undefined) throw unsupported(`process.${key}`);
  }
  const args = raw.args === undefined ? [] : checkStrings('process.args', raw.args);
  if (args.length === 0) throw configError('process.args', 'must hold at least the program to run');
  const env = raw.env === undefined ? [] : checkStrings('process.env', raw.env);
  env.forEach((e, i) => {
    if (!e.includes('=')) throw configError(`process.env[${i}]`, `"${e}" is not KEY=VALUE`);
  });
  const cwd = checkString('process.cwd', raw.cwd);
  if (!path.posix.isAbsolute(cwd)) throw configError('process.cwd', `"${cwd}" is not an absolute path`);
  if (!isObject(raw.user)) throw configError('process.user', 'is required');
  const u = raw.user;
  if (u.username !== undefined && u.username !== '') throw unsupported('process.user.username', 'is for Windows; give uid and gid');
  const uid = checkUint('process.user.uid', u.uid);
  const gid = checkUint('process.user.gid', u.gid);
  const groups =
    u.additionalGids === undefined ? [] : (u.additionalGids as unknown[]).map((g, i) => checkUint(`process.user.additionalGids[${i}]`, g));
  const spec: ProcessSpec = {
    args,
    env,
    cwd,
    user: { uid, gid, groups, strictGroups: true },
    capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
    noNewPrivileges: raw.noNewPrivileges === undefined ? false : raw.noNewPrivileges === true,
  };
  if (raw.noNewPrivileges !== undefined && typeof raw.noNewPrivileges !== 'boolean')
    throw configError('process.noNewPrivileges', 'is not a boolean');
  if (u.umask !== undefined && u.umask !== null) spec.umask = checkUint('process.user.umask', u.umask, 0o777);
  if (raw.capabilities !== undefined && raw.capabilities !== null) {
    if (!isObject(raw.capabilities)) throw configError('process.capabilities', 'is not an object');
    for (const set of CAP_SETS) spec.capabilities[set] = capabilityBits(`process.capabilities.${set}`, raw.capabilities[set]);
  }
  if (raw.rlimits !== undefined) {
    if (!Array.isArray(raw.rlimits)) throw configError('process.rlimits', 'is not a list');
    const seen = new Set<string>();
    spec.rlimits = raw.rlimits.map((r: unknown, i) => {
      const at = `process.rlimits[${i}]`;
      if (!isObject(r)) throw configError(at, 'is not an object');
      const type = checkString(`${at}.type`, r.type);
      if (!(type in RLIMITS))
        throw configError(`${at}.type`, `"${type}" is not a resource of this kernel (${Object.keys(RLIMITS).join(', ')})`);
      if (seen.has(type)) throw configError(`${at}.type`, `${type} is given twice`);
      seen.add(type);
      const soft = checkUint(`${at}.soft`, r.soft, 2 ** 64);
      const hard = checkUint(`${at}.hard`, r.hard, 2 ** 64);
      if (soft > hard) throw configError(at, `soft ${soft} is above hard ${hard}`);
      return { type, soft, hard };
    });
  }
  if (raw.oomScoreAdj !== undefined) {
    const v = checkInt('process.oomScoreAdj', raw.oomScoreAdj);
    if (v < -1000 || v > 1000) throw configError('process.oomScoreAdj', `${v} is outside -1000..1000`);
    spec.oomScoreAdj = v;
  }
  const labels: LsmLabel[] = [];
  if (raw.apparmorProfile !== undefined && raw.apparmorProfile !== '') {
    labels.push({ module: 'apparmor', label: checkString('process.apparmorProfile', raw.apparmorProfile) });
  }
  if (raw.selinuxLabel !== undefined && raw.selinuxLabel !== '') {
    labels.push({ module: 'selinux', label: checkString('process.selinuxLabel', raw.selinuxLabel) });
  }
  if (labels.length > 0) spec.lsmLabels = labels;
  const terminal = raw.terminal === true;
  const out: TranslatedProcess = { spec, terminal };
  if (raw.consoleSize !== undefined) {
    if (!isObject(raw.consoleSize)) throw configError('process.consoleSize', 'is not an object');
    out.consoleSize = {
      height: checkUint('process.consoleSize.height', raw.consoleSize.height, 65535),
      width: checkUint('process.consoleSize.width', raw.consoleSize.width, 65535),
    };
  }
  return out;
}
