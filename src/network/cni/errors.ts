/**
 * Errors from CNI plugins. A failing plugin prints `{"code":N,"msg":...,"details":...}` on
 * stdout (spec "Error" type); we keep the plugin's name and command so the user can tell which
 * link of the chain broke.
 */

import { HostError } from '../../errors.js';

/** Well-known codes from the spec; 100+ are plugin-specific. */
export const CNI_ERROR_CODES: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
};

/** A CNI plugin failed: the host's network setup (a missing plugin, a broken conflist, a busy address). */
export class CniError extends HostError {
  override name = 'CniError';
  readonly plugin: string;
  readonly command: string;
  /** Spec error code, or undefined when the plugin did not print one (crash, timeout). */
  readonly cniCode?: number;
  readonly details?: string;
  constructor(plugin: string, command: string, message: string, cniCode?: number, details?: string) {
    super(`CNI plugin ${plugin} ${command}: ${message}`, {
      hint: 'the plugins in MINIPOD_CNI_PATH (/usr/lib/cni:/opt/cni/bin; apt-get install containernetworking-plugins) and the network in /etc/minipod/cni/minipod.conflist',
    });
    this.plugin = plugin;
    this.command = command;
    this.cniCode = cniCode;
    this.details = details;
  }
}

export interface CniErrorJson {
  code: number;
  msg: string;
  details?: string;
}

/** The spec's error object from a plugin's stdout, or undefined if it is not one. */
export function parseCniErrorJson(stdout: string): CniErrorJson | undefined {
  const text = stdout.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const obj = JSON.parse(text) as Record<string, unknown>;
    if (typeof obj.code !== 'number') return undefined;
    return {
      code: obj.code,
      msg: typeof obj.msg === 'string' ? obj.msg : '',
      details: typeof obj.details === 'string' && obj.details ? obj.details : undefined,
    };
  } catch {
    return undefined;
  }
}

/** Builds the error for a plugin that exited non-zero (or was killed). */
export function cniErrorFromExit(
  plugin: string,
  command: string,
  out: { code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean },
  timeoutMs?: number,
): CniError {
  if (out.timedOut) {
    return new CniError(plugin, command, `timed out after ${Math.round((timeoutMs ?? 0) / 1000)}s`);
  }
  const parsed = parseCniErrorJson(out.stdout);
  if (parsed) {
    const base = parsed.msg || CNI_ERROR_CODES[parsed.code] || `error code ${parsed.code}`;
    const msg = parsed.details ? `${base}: ${parsed.details}` : base;
    return new CniError(plugin, command, msg, parsed.code, parsed.details);
  }
  const how = out.signal ? `killed by ${out.signal}` : `exit status ${out.code}`;
  const text = (out.stderr.trim() || out.stdout.trim()).split('\n').slice(-3).join(' ');
  return new CniError(plugin, command, text ? `${how}: ${text}` : how);
}
