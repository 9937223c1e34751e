/**
 * Network configuration lists (`*.conflist`): validation and the per-plugin config a runtime
 * builds for each invocation (spec section "Network configuration lists" and libcni's
 * buildOneConfig: name and cniVersion from the list, runtimeConfig only for declared
 * capabilities, prevResult chained through).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { CniCommand, CniConfList, CniPluginConf, CniResult, CniRuntimeConfig } from './types.js';

export const SUPPORTED_CNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'];

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** DEL gets prevResult and CHECK exists only from 0.4.0 on. */
export function supportsCheckAndDelPrevResult(cniVersion: string): boolean {
  return versionAtLeast(cniVersion, '0.4.0');
}

/** Validates a parsed conflist; `where` names the file in messages. */
export function validateConfList(obj: unknown, where: string): CniConfList {
  const bad = (msg: string): never => {
    throw new UserError(`${where}: ${msg}`, { code: 'network.config' });
  };
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) bad('not a JSON object');
  const c = obj as Record<string, unknown>;
  if (typeof c.cniVersion !== 'string') bad('cniVersion must be a string');
  if (!SUPPORTED_CNI_VERSIONS.includes(c.cniVersion as string)) {
    bad(`cniVersion ${JSON.stringify(c.cniVersion)} is not supported (${SUPPORTED_CNI_VERSIONS.join(', ')})`);
  }
  if (typeof c.name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(c.name)) {
    bad('name must be a string of letters, digits, _ . -');
  }
  if (!Array.isArray(c.plugins) || c.plugins.length === 0) bad('plugins must be a non-empty list');
  (c.plugins as unknown[]).forEach((p, i) => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) bad(`plugins[${i}] is not an object`);
    const t = (p as Record<string, unknown>).type;
    if (typeof t !== 'string' || !/^[a-zA-Z0-9_.-]+$/.test(t)) bad(`plugins[${i}].type must be a plugin name`);
  });
  return c as unknown as CniConfList;
}

export function loadConfList(file: string): CniConfList {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read CNI network config ${file}: ${(err as Error).message}`, { code: 'network.config' });
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON: ${(err as Error).message}`, { code: 'network.config' });
  }
  return validateConfList(obj, file);
}

/** The stdin of one plugin invocation. */
export function buildPluginConfig(
  list: CniConfList,
  plugin: CniPluginConf,
  command: CniCommand,
  runtimeConfig: CniRuntimeConfig | undefined,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const caps = plugin.capabilities ?? {};
  const rc: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(caps)) {
    if (on && runtimeConfig && runtimeConfig[cap] !== undefined) rc[cap] = runtimeConfig[cap];
  }
  if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
  else delete conf.runtimeConfig;
  const wantsPrev = command !== 'DEL' || supportsCheckAndDelPrevResult(list.cniVersion);
  if (prevResult && wantsPrev) conf.prevResult = prevResult;
  else delete conf.prevResult;
  return conf;
}

/** Finds a plugin binary in the CNI_PATH directories. */
export function findPlugin(type: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const file = path.join(dir, type);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Every plugin a list needs must be installed before we touch the host. */
export function requirePlugins(list: CniConfList, dirs: string[], file: string): void {
  const missing = [...new Set(list.plugins.map((p) => p.type))].filter((t) => !findPlugin(t, dirs));
  if (missing.length > 0) {
    throw new UserError(
      `CNI plugin${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (needed by ${file}) not found in ${dirs.join(':')}: ` +
        'install them with `apt-get install containernetworking-plugins`, or use `minipod.io/network: none` or `hostNetwork: true`',
      { code: 'network.plugins-missing' },
    );
  }
}
