/**
 * The OCI distribution API, the parts a pull needs: the /v2/ ping (which tells the auth
 * scheme), manifests by tag or digest, and blobs by digest with Range resumes.
 *
 * Auth: a 401 carries a WWW-Authenticate challenge. `Bearer` (Docker Hub, most registries):
 * GET the realm with service and scope `repository:<repo>:pull`, with Basic credentials when
 * we have some (anonymous otherwise), and send the token as `Authorization: Bearer`. `Basic`:
 * send the credentials on every request. Credentials come from credentials.ts.
 * Retries: network errors, 429 and 5xx, 4 attempts with backoff (Retry-After honoured up to
 * 10 s). Plain HTTP only for insecure registries (insecure.ts): HTTPS is tried first (without
 * certificate checks) and HTTP used when that fails, as Docker does.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import { UserError } from '../../errors.js';
import { digestHex, sha256Hex } from '../oci/digest.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, type Descriptor } from '../oci/spec.js';
import { parseChallenges, parseTokenResponse, type Challenge } from './auth.js';
import { credentialsFrom, findCredentials, type Credentials } from './credentials.js';
import { readBody, request, type HttpResponse } from './http.js';
import { configuredInsecure, isInsecure } from './insecure.js';
import { apiHost, type Reference } from './reference.js';

/** Layers of real images reach a few GiB; this only stops a descriptor claiming absurd sizes. */
export const MAX_BLOB_BYTES = 64 * 1024 ** 3;
const ATTEMPTS = 4;

export interface ClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Docker config documents of a pod's imagePullSecrets: their logins come first, as kubelet's. */
  pullSecrets?: readonly { name: string; dockerConfig: Record<string, unknown> }[];
  /** Backoff base; tests make it small. */
  backoffMs?: number;
}

export class RegistryClient {
  private base?: URL;
  private readonly insecure: boolean;
  private challenge?: Challenge;
  private authHeader?: string;
  private tokenExpiresAt = 0;
  private creds: Credentials | null | undefined;
  private readonly host: string;

  constructor(
    readonly ref: Reference,
    private readonly o: ClientOptions = {},
  ) {
    this.host = apiHost(ref.domain);
    this.insecure = isInsecure(ref.domain, configuredInsecure(o.env));
  }

  private get what(): string {
    return this.ref.name;
  }

  private credentials(): Credentials | null {
    if (this.creds === undefined) {
      for (const s of this.o.pullSecrets ?? []) {
        this.creds = credentialsFrom(s.dockerConfig, this.ref.domain, `imagePullSecrets Secret "${s.name}"`);
        if (this.creds) return this.creds;
      }
      this.creds = findCredentials(this.ref.domain, this.o.env);
    }
    return this.creds;
  }

  /** GET /v2/: picks the scheme and records the auth challenge. */
  private async ping(): Promise<void> {
    if (this.base) return;
    const schemes = this.insecure ? ['https:', 'http:'] : ['https:'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}//${this.host}/`);
      try {
        // An insecure registry's HTTPS is tried once: a plain-HTTP server fails the handshake at once.
        const ping = (): Promise<HttpResponse> => request(new URL('/v2/', base), { insecureTls: this.insecure });
        const res = this.insecure && scheme === 'https:' ? await ping() : await this.withRetries(ping, base.host);
        res.body.resume();
        if (res.status === 401) this.challenge = challengeOf(res);
        else if (res.status !== 200)
          throw new UserError(`${this.host} does not speak the registry API v2 (GET /v2/ answered ${res.status})`, {
            code: 'registry.error',
          });
        this.base = base;
        return;
      } catch (err) {
        lastErr = err;
        if (err instanceof UserError) throw err;
      }
    }
    const msg = lastErr instanceof Error ? lastErr.message : String(lastErr);
    throw new UserError(`cannot reach the registry ${this.host}: ${msg}`, { code: 'registry.unreachable', cause: lastErr });
  }

  private async authorize(force = false): Promise<void> {
    const ch = this.challenge;
    if (!ch) return;
    if (ch.scheme === 'basic') {
      const c = this.credentials();
      if (c) this.authHeader = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      return;
    }
    if (ch.scheme !== 'bearer')
      throw new UserError(`${this.host} asks for unsupported authentication "${ch.scheme}"`, { code: 'registry.auth' });
    if (!force && this.authHeader && Date.now() < this.tokenExpiresAt) return;
    const realm = ch.params.realm;
    if (!realm) throw new UserError(`${this.host}: the Bearer challenge has no realm`, { code: 'registry.auth' });
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UserError(`${this.host}: the token realm ${JSON.stringify(realm)} is not a URL`, { code: 'registry.auth' });
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.insecure)) {
      throw new UserError(`${this.host}: the token realm ${realm} is not HTTPS; refusing to send credentials there`, {
        code: 'registry.auth',
      });
    }
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    url.searchParams.set('scope', `repository:${this.ref.repository}:pull`);
    const headers: Record<string, string> = {};
    const c = this.credentials();
    if (c) headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    const res = await this.withRetries(() => request(url, { headers, insecureTls: this.insecure }), url.host);
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      throw new UserError(
        c
          ? `authentication to ${this.host} failed with the credentials from ${c.file}`
          : `${this.host} refused an anonymous token for ${this.ref.repository}`,
        { code: 'registry.auth' },
      );
    }
    if (res.status !== 200) {
      res.body.resume();
      throw new UserError(`${this.host}: the token endpoint answered ${res.status}`, { code: 'registry.auth' });
    }
    const tok = parseTokenResponse(await readBody(res, 1024 * 1024, `${this.host} token`));
    if (!tok) throw new UserError(`${this.host}: the token endpoint sent no usable token`, { code: 'registry.auth' });
    this.authHeader = `Bearer ${tok.token}`;
    this.tokenExpiresAt = tok.expiresAtMs;
  }

  private async withRetries(fn: () => Promise<HttpResponse>, host: string): Promise<HttpResponse> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep((this.o.backoffMs ?? 500) * 2 ** (attempt - 1));
      let res: HttpResponse;
      try {
        res = await fn();
      } catch (err) {
        if (err instanceof UserError) throw err;
        lastErr = err;
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        res.body.resume();
        lastErr = new Error(`${host} answered ${res.status}`);
        const after = Number(res.headers['retry-after']);
        if (Number.isFinite(after) && after > 0) await sleep(Math.min(after, 10) * 1000);
        continue;
      }
      return res;
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  /** An authorized GET of a /v2/ path; one re-authorization on 401. */
  async get(path: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    await this.ping();
    await this.authorize();
    for (let round = 0; round < 2; round++) {
      const h = { ...headers, ...(this.authHeader ? { Authorization: this.authHeader } : {}) };
      let res: HttpResponse;
      try {
        res = await this.withRetries(() => request(new URL(path, this.base), { headers: h, insecureTls: this.insecure }), this.host);
      } catch (err) {
        if (err instanceof UserError) throw err;
        throw new UserError(`${this.what}: ${this.host}: ${(err as Error).message}`, { code: 'registry.unreachable', cause: err });
      }
      if (res.status !== 401) return res;
      res.body.resume();
      if (round === 0) {
        this.challenge = challengeOf(res) ?? this.challenge;
        this.authHeader = undefined;
        await this.authorize(true);
        if (this.authHeader) continue;
      }
      const c = this.credentials();
      throw new UserError(
        c
          ? `${this.what}: ${this.host} refused the credentials from ${c.file}`
          : `${this.what}: ${this.host} requires authentication: add credentials to ~/.docker/config.json (docker login) or a file named by $REGISTRY_AUTH_FILE`,
        { code: 'registry.auth' },
      );
    }
    throw new Error('unreachable');
  }

  /** A manifest or index by tag or digest: its bytes, their sha256, the Content-Type. */
  async manifest(reference: string): Promise<{ bytes: Buffer; hex: string; contentType?: string }> {
    const res = await this.get(`/v2/${this.ref.repository}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) {
      res.body.resume();
      throw new UserError(`${this.what}: manifest unknown: ${this.ref.repository}:${reference} is not in ${this.host}`, {
        code: 'image.not-found',
      });
    }
    if (res.status !== 200) {
      res.body.resume();
      throw new UserError(`${this.what}: ${this.host} answered ${res.status} for the manifest`, { code: 'registry.error' });
    }
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, `${this.what}: manifest`);
    const hex = sha256Hex(bytes);
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header.startsWith('sha256:') && header !== `sha256:${hex}`) {
      throw new UserError(
        `${this.what}: the manifest does not match the registry's Docker-Content-Digest (${header}): corrupt or tampered`,
        { code: 'image.digest-mismatch' },
      );
    }
    const ct = res.headers['content-type'];
    return { bytes, hex, contentType: typeof ct === 'string' ? ct : undefined };
  }

  /**
   * Downloads blob `d` into `partial`, resuming from what is already there (Range). Never
   * writes more than `d.size` bytes; the caller verifies the digest.
   */
  async blobTo(d: Descriptor, partial: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    digestHex(d.digest, `${this.what}: blob`);
    if (d.size > MAX_BLOB_BYTES)
      throw new UserError(`${this.what}: blob ${d.digest} claims ${d.size} bytes, over the limit`, { code: 'image.too-large' });
    let lastErr: unknown;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep((this.o.backoffMs ?? 500) * 2 ** (attempt - 1));
      let have = await fsp.stat(partial).then(
        (s) => s.size,
        () => 0,
      );
      if (have > d.size) {
        await fsp.truncate(partial, 0);
        have = 0;
      }
      if (have === d.size) return;
      const res = await this.get(`/v2/${this.ref.repository}/blobs/${d.digest}`, have > 0 ? { Range: `bytes=${have}-` } : {});
      if (res.status === 404) {
        res.body.resume();
        throw new UserError(`${this.what}: blob ${d.digest} is not in ${this.host}`, { code: 'image.not-found' });
      }
      if (res.status === 416) {
        res.body.resume();
        await fsp.truncate(partial, 0);
        continue;
      }
      if (res.status === 200) {
        have = 0; // the registry ignored Range: start over
      } else if (res.status === 206) {
        const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
        if (!m || Number(m[1]) !== have) {
          res.body.resume();
          await fsp.truncate(partial, 0);
          continue;
        }
      } else {
        res.body.resume();
        throw new UserError(`${this.what}: ${this.host} answered ${res.status} for blob ${d.digest}`, { code: 'registry.error' });
      }
      try {
        await this.writeBody(res, partial, have, d, onProgress);
      } catch (err) {
        if (err instanceof UserError) throw err;
        lastErr = err; // cut off: resume from what we have
        continue;
      }
      const size = await fsp.stat(partial).then((s) => s.size);
      if (size === d.size) return;
      lastErr = new Error(`the download stopped at ${size} of ${d.size} bytes`);
    }
    const msg = lastErr instanceof Error ? lastErr.message : String(lastErr);
    throw new UserError(`${this.what}: blob ${d.digest} could not be downloaded completely: ${msg}`, {
      code: 'registry.error',
      cause: lastErr,
    });
  }

  private async writeBody(
    res: HttpResponse,
    partial: string,
    have: number,
    d: Descriptor,
    onProgress?: (done: number, total: number) => void,
  ): Promise<void> {
    const out = createWriteStream(partial, { flags: have > 0 ? 'a' : 'w', mode: 0o600 });
    let n = have;
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
    });
    try {
      for await (const chunk of res.body) {
        n += (chunk as Buffer).length;
        if (n > d.size) {
          res.body.destroy();
          throw new UserError(`${this.what}: the registry sent more than the ${d.size} bytes of blob ${d.digest}: tampered`, {
            code: 'image.digest-mismatch',
          });
        }
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        onProgress?.(n, d.size);
      }
    } finally {
      out.end();
      await closed;
    }
  }
}

function challengeOf(res: HttpResponse): Challenge | undefined {
  const h = res.headers['www-authenticate'];
  const text = Array.isArray(h) ? h.join(', ') : h;
  if (!text) return undefined;
  const all = parseChallenges(text);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic') ?? all[0];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
