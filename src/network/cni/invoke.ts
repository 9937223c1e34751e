/** Executing one CNI plugin (spec section "Execution protocol"). */
import { run } from '../exec.js';
import { HELPER_PATH } from '../exec.js';
import { cniErrorFromExit, CniError } from './errors.js';
import { findPlugin } from './conflist.js';
import { parseCniResult } from './result.js';
import type { CniCommand, CniResult, CniRuntime } from './types.js';

export const DEFAULT_PLUGIN_TIMEOUT_MS = 30_000;

/** The environment of a plugin: only CNI_* and PATH (plugins call iptables and modprobe). */
export function pluginEnv(command: CniCommand, rt: CniRuntime): NodeJS.ProcessEnv {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifName,
    CNI_PATH: rt.pluginDirs.join(':'),
    CNI_ARGS: rt.args ?? '',
    PATH: `${process.env.PATH ? `${process.env.PATH}:` : ''}${HELPER_PATH}`,
  };
}

/** Runs a plugin; returns its result for ADD, undefined for DEL/CHECK. */
export async function invokePlugin(
  type: string,
  command: CniCommand,
  config: Record<string, unknown>,
  rt: CniRuntime,
): Promise<CniResult | undefined> {
  const bin = findPlugin(type, rt.pluginDirs);
  if (!bin) throw new CniError(type, command, `plugin binary not found in ${rt.pluginDirs.join(':')}`);
  const timeoutMs = rt.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  const out = await run(bin, [], { input: JSON.stringify(config), env: pluginEnv(command, rt), timeoutMs });
  if (out.code !== 0 || out.timedOut) throw cniErrorFromExit(type, command, out, timeoutMs);
  if (command !== 'ADD') return undefined;
  return parseCniResult(type, out.stdout);
}
