/**
 * WWW-Authenticate challenges (RFC 7235) as registries send them:
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"
 *   Basic realm="Registry Realm"
 * A header may carry several challenges; parameters may be quoted (with \-escapes) or tokens.
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: Challenge | null = null;
  while (i < n) {
    skipWs();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const t = token();
    if (t === '') {
      i++; // garbage: skip a character rather than loop forever
      continue;
    }
    skipWs();
    if (header[i] === '=' && current) {
      i++;
      skipWs();
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        // Unquoted: up to the next comma or space (lenient: realms are often unquoted URLs).
        const start2 = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i++;
        value = header.slice(start2, i);
      }
      current.params[t.toLowerCase()] = value;
      continue;
    }
    void start;
    current = { scheme: t.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}

export interface TokenResponse {
  token: string;
  expiresAtMs: number;
}

/** The token endpoint's JSON: `token` or `access_token` (OAuth), `expires_in` (default 60 s). */
export function parseTokenResponse(body: Buffer, nowMs = Date.now()): TokenResponse | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null) return null;
  const o = doc as Record<string, unknown>;
  const token = typeof o.token === 'string' && o.token !== '' ? o.token : typeof o.access_token === 'string' ? o.access_token : '';
  if (token === '' || /[\r\n]/.test(token)) return null;
  const expiresIn = typeof o.expires_in === 'number' && o.expires_in > 0 ? o.expires_in : 60;
  return { token, expiresAtMs: nowMs + Math.max(10, expiresIn - 10) * 1000 };
}
