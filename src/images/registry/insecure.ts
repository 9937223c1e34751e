/**
 * Which registries may be spoken to over plain HTTP (or HTTPS without certificate checks):
 * localhost, 127.0.0.0/8 and ::1 on any port, plus the entries of
 *   - $MINIPOD_INSECURE_REGISTRIES (comma-separated `host[:port]`), and
 *   - /etc/minipod/registries.json (`{"insecureRegistries": ["host:port", ...]}`; the path can be
 *     moved with $MINIPOD_REGISTRIES_CONF).
 * An entry without a port matches every port of that host. Every other registry is HTTPS,
 * verified against the system CAs.
 */
import fs from 'node:fs';
import { UserError } from '../../errors.js';
import { registriesConfPath } from '../../paths.js';

function splitHostPort(s: string): { host: string; port?: string } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(s.trim().toLowerCase());
  if (!m) return { host: s.trim().toLowerCase() };
  return { host: m[1]!, port: m[2] };
}

export function configuredInsecure(env: NodeJS.ProcessEnv = process.env): string[] {
  const out = (env.MINIPOD_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const file = registriesConfPath(env);
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new UserError(`${file}: not valid JSON (${(err as Error).message})`, { code: 'config.invalid' });
    }
    const list = (doc as { insecureRegistries?: unknown })?.insecureRegistries;
    if (list !== undefined && (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))) {
      throw new UserError(`${file}: insecureRegistries must be a list of "host[:port]" strings`, { code: 'config.invalid' });
    }
    out.push(...((list as string[] | undefined) ?? []));
  }
  return out;
}

export function isInsecure(domain: string, extra: string[]): boolean {
  const { host, port } = splitHostPort(domain);
  if (host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]') return true;
  return extra.some((e) => {
    const x = splitHostPort(e);
    return x.host === host && (x.port === undefined || x.port === port);
  });
}
