/**
 * Registry credentials from Docker-format auth files, first match wins:
 *   1. $REGISTRY_AUTH_FILE (podman's variable; podman's auth.json has the same format)
 *   2. $DOCKER_CONFIG/config.json, else ~/.docker/config.json of the current user
 *   3. under sudo: ~SUDO_USER/.docker/config.json (the invoking user logged in, not root)
 * Only inline credentials (`auth` = base64 "user:password", or `username`/`password`) are
 * used; credential helpers (`credsStore`, `credHelpers`) are not run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
  /** The file they came from, for messages. */
  file: string;
}

export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.DOCKER_CONFIG) files.push(path.join(env.DOCKER_CONFIG, 'config.json'));
  const home = env.HOME ?? os.homedir();
  if (home) files.push(path.join(home, '.docker', 'config.json'));
  if (env.SUDO_USER && /^[a-z_][a-z0-9_.-]*\$?$/i.test(env.SUDO_USER)) {
    const h = homeOf(env.SUDO_USER);
    if (h) files.push(path.join(h, '.docker', 'config.json'));
  }
  return [...new Set(files)];
}

function homeOf(user: string): string | undefined {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f[5]) return f[5];
    }
  } catch {
    // no /etc/passwd: no home
  }
  return undefined;
}

/** The keys an auth file may use for `domain`: `host:port`, with or without a scheme and path. */
function keyHost(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
}

function matches(key: string, domain: string): boolean {
  const host = keyHost(key);
  if (domain === DOCKER_HUB) return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io';
  return host === domain.toLowerCase();
}

export function credentialsFrom(doc: unknown, domain: string, file: string): Credentials | null {
  if (typeof doc !== 'object' || doc === null) throw new UserError(`${file}: not a JSON object`, { code: 'auth.invalid' });
  const auths = (doc as Record<string, unknown>).auths;
  if (typeof auths !== 'object' || auths === null) return null;
  for (const [key, v] of Object.entries(auths as Record<string, unknown>)) {
    if (!matches(key, domain) || typeof v !== 'object' || v === null) continue;
    const e = v as Record<string, unknown>;
    if (typeof e.auth === 'string' && e.auth !== '') {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new UserError(`${file}: the auth entry of ${key} is not base64 of "user:password"`, { code: 'auth.invalid' });
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), file };
    }
    if (typeof e.username === 'string' && typeof e.password === 'string') return { username: e.username, password: e.password, file };
  }
  return null;
}

export function findCredentials(domain: string, env: NodeJS.ProcessEnv = process.env): Credentials | null {
  for (const file of authFiles(env)) {
    let text: string;
    try {
      const st = fs.statSync(file);
      if (!st.isFile() || st.size > 1024 * 1024) continue;
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new UserError(`${file}: not valid JSON (${(err as Error).message})`, { code: 'auth.invalid' });
    }
    const c = credentialsFrom(doc, domain, file);
    if (c) return c;
  }
  return null;
}
