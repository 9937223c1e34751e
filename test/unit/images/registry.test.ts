import { describe, expect, it } from 'vitest';
import { parseChallenges, parseTokenResponse } from '../../../src/images/registry/auth.js';
import { credentialsFrom } from '../../../src/images/registry/credentials.js';
import { isInsecure } from '../../../src/images/registry/insecure.js';
import { defaultPullPolicy } from '../../../src/images/registry/pull.js';
import { apiHost, parseReference, repositoryOf } from '../../../src/images/registry/reference.js';

describe('parseReference', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', 'latest', 'docker.io/library/nginx:latest', true],
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', 'docker.io/library/nginx:1.25', false],
    ['docker.io/library/nginx:1.25', 'docker.io', 'library/nginx', '1.25', 'docker.io/library/nginx:1.25', false],
    ['index.docker.io/bitnami/redis', 'docker.io', 'bitnami/redis', 'latest', 'docker.io/bitnami/redis:latest', true],
    ['user/app:v2', 'docker.io', 'user/app', 'v2', 'docker.io/user/app:v2', false],
    ['localhost/app', 'localhost', 'app', 'latest', 'localhost/app:latest', true],
    ['127.0.0.1:5000/test/app:1', '127.0.0.1:5000', 'test/app', '1', '127.0.0.1:5000/test/app:1', false],
    ['quay.io/org/img:tag', 'quay.io', 'org/img', 'tag', 'quay.io/org/img:tag', false],
    ['docker://ghcr.io/o/r:1', 'ghcr.io', 'o/r', '1', 'ghcr.io/o/r:1', false],
  ])('%s', (input, domain, repository, tag, name, implicitTag) => {
    const r = parseReference(input);
    expect(r).toMatchObject({ domain, repository, tag, name, implicitTag });
  });

  it('keeps a digest and does not invent a tag', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const r = parseReference(`localhost:5000/app@${d}`);
    expect(r).toMatchObject({ domain: 'localhost:5000', repository: 'app', digest: d, tag: undefined, name: `localhost:5000/app@${d}` });
    expect(defaultPullPolicy(r)).toBe('IfNotPresent');
  });

  it('refuses what is not a reference', () => {
    expect(() => parseReference('UPPER/case')).toThrow(/not a valid image reference|lowercase/);
    expect(() => parseReference('a b')).toThrow(/not a valid image reference/);
    expect(() => parseReference(`app@sha256:${'z'.repeat(64)}`)).toThrow();
  });

  it('talks to registry-1.docker.io for Docker Hub', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('localhost:5000')).toBe('localhost:5000');
  });

  it('splits names for the images table', () => {
    expect(repositoryOf('127.0.0.1:5000/test/app:1')).toEqual({ repository: '127.0.0.1:5000/test/app', tag: '1' });
  });
});

describe('defaultPullPolicy (Kubernetes)', () => {
  it('is Always for :latest and no tag, IfNotPresent otherwise', () => {
    expect(defaultPullPolicy(parseReference('nginx'))).toBe('Always');
    expect(defaultPullPolicy(parseReference('nginx:latest'))).toBe('Always');
    expect(defaultPullPolicy(parseReference('nginx:1.25'))).toBe('IfNotPresent');
  });
});

describe('WWW-Authenticate', () => {
  it("parses Docker Hub's Bearer challenge", () => {
    const c = parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
    );
    expect(c).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
      },
    ]);
  });

  it('parses Basic, several challenges, escapes and unquoted values', () => {
    const c = parseChallenges('Basic realm="Registry \\"Realm\\"", Bearer realm=https://x/token, service=x');
    expect(c).toEqual([
      { scheme: 'basic', params: { realm: 'Registry "Realm"' } },
      { scheme: 'bearer', params: { realm: 'https://x/token', service: 'x' } },
    ]);
  });

  it('survives garbage', () => {
    expect(() => parseChallenges('=,,"\\')).not.toThrow();
  });

  it('reads token or access_token and refuses header injection', () => {
    expect(parseTokenResponse(Buffer.from('{"token":"abc","expires_in":300}'), 0)).toEqual({ token: 'abc', expiresAtMs: 290_000 });
    expect(parseTokenResponse(Buffer.from('{"access_token":"x"}'), 0)?.token).toBe('x');
    expect(parseTokenResponse(Buffer.from('{"token":"a\\r\\nX: y"}'))).toBeNull();
    expect(parseTokenResponse(Buffer.from('not json'))).toBeNull();
  });
});

describe('auth files', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('matches Docker Hub under its several keys and other hosts exactly', () => {
    const doc = { auths: { 'https://index.docker.io/v1/': { auth: b64('u:p:w') }, 'localhost:5000': { username: 'a', password: 'b' } } };
    expect(credentialsFrom(doc, 'docker.io', 'f')).toEqual({ username: 'u', password: 'p:w', file: 'f' });
    expect(credentialsFrom(doc, 'localhost:5000', 'f')).toEqual({ username: 'a', password: 'b', file: 'f' });
    expect(credentialsFrom(doc, 'localhost:5001', 'f')).toBeNull();
    expect(credentialsFrom({}, 'docker.io', 'f')).toBeNull();
  });
  it('refuses a broken auth entry clearly', () => {
    expect(() => credentialsFrom({ auths: { 'x.io': { auth: b64('nocolon') } } }, 'x.io', '/c.json')).toThrow(
      /\/c\.json: the auth entry of x\.io/,
    );
  });
});

describe('insecure registries', () => {
  it('allows localhost and loopback by default, others only when listed', () => {
    expect(isInsecure('localhost:5000', [])).toBe(true);
    expect(isInsecure('127.0.0.1:41234', [])).toBe(true);
    expect(isInsecure('[::1]:5000', [])).toBe(true);
    expect(isInsecure('docker.io', [])).toBe(false);
    expect(isInsecure('reg.lan:5000', ['reg.lan'])).toBe(true);
    expect(isInsecure('reg.lan:5000', ['reg.lan:6000'])).toBe(false);
  });
});
