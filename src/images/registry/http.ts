/**
 * A small HTTP client over node:http/https for the registry API. Not fetch: Node 20's fetch
 * cannot be given the system CA bundle (only its built-in Mozilla list) without the undici
 * package, and blob downloads want the raw response stream for Range resumes.
 * - HTTPS trusts Node's bundled roots plus the system bundle (/etc/ssl/certs/ca-certificates.crt,
 *   where Debian's update-ca-certificates puts local CAs);
 * - redirects are followed (blobs are usually served from a CDN), at most 5, and the
 *   Authorization header is dropped when the redirect leaves the origin;
 * - every socket has an idle timeout, so a stalled registry becomes an error, then a retry.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { UserError } from '../../errors.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  url: URL;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** Skip certificate verification (insecure registries only). */
  insecureTls?: boolean;
  idleTimeoutMs?: number;
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
let cas: string[] | undefined;

function trustedCAs(): string[] {
  if (cas) return cas;
  cas = [...tls.rootCertificates];
  for (const f of SYSTEM_BUNDLES) {
    try {
      cas.push(fs.readFileSync(f, 'utf8'));
      break;
    } catch {
      // not on this distribution
    }
  }
  return cas;
}

export const USER_AGENT = 'minipod/0.1';

function once(url: URL, o: RequestOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const mod = isHttps ? https : http;
    const req = mod.request(
      url,
      {
        method: o.method ?? 'GET',
        headers: { 'User-Agent': USER_AGENT, ...o.headers },
        ...(isHttps ? { ca: trustedCAs(), rejectUnauthorized: !o.insecureTls } : {}),
      },
      (res) => {
        res.setTimeout(o.idleTimeoutMs ?? 60_000, () =>
          res.destroy(new Error(`no data from ${url.host} for ${(o.idleTimeoutMs ?? 60_000) / 1000}s`)),
        );
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      },
    );
    req.setTimeout(o.idleTimeoutMs ?? 60_000, () =>
      req.destroy(new Error(`${url.host} did not answer within ${(o.idleTimeoutMs ?? 60_000) / 1000}s`)),
    );
    req.on('error', reject);
    req.end();
  });
}

export async function request(url: URL, o: RequestOptions = {}): Promise<HttpResponse> {
  let cur = url;
  let headers = { ...o.headers };
  for (let hop = 0; hop <= 5; hop++) {
    const res = await once(cur, { ...o, headers });
    if (![301, 302, 303, 307, 308].includes(res.status) || !res.headers.location) return res;
    res.body.resume();
    const next = new URL(res.headers.location, cur);
    if (next.protocol !== 'https:' && next.protocol !== 'http:')
      throw new UserError(`${cur.host} redirected to a ${next.protocol} URL`, { code: 'registry.error' });
    // A downgrade to http is only accepted from an http origin (an insecure registry).
    if (cur.protocol === 'https:' && next.protocol === 'http:')
      throw new UserError(`${cur.host} redirected from HTTPS to plain HTTP (${next.host}); refusing`, { code: 'registry.error' });
    if (next.origin !== cur.origin) {
      const { Authorization: _drop, ...rest } = headers;
      headers = rest;
    }
    cur = next;
  }
  throw new UserError(`${url.host}: too many redirects`, { code: 'registry.error' });
}

/** The whole body, refused beyond `max` bytes (registries' JSON is small; a huge one is hostile). */
export async function readBody(res: HttpResponse, max: number, what: string): Promise<Buffer> {
  const len = Number(res.headers['content-length']);
  if (Number.isFinite(len) && len > max) {
    res.body.destroy();
    throw new UserError(`${what}: the registry announced ${len} bytes, over the limit of ${max}`, { code: 'image.too-large' });
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > max) {
      res.body.destroy();
      throw new UserError(`${what}: the registry sent more than ${max} bytes`, { code: 'image.too-large' });
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
