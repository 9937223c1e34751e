/**
 * imagePullSecrets on the wire: a fake registry (node:http on loopback, no root) that wants
 * Basic auth, and the registry client given a pod's pull secrets, as kubelet passes them.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/images/registry/client.js';
import { parseReference } from '../../../src/images/registry/reference.js';

const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] });
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const dockerConfig = (host: string, user: string, pass: string) => ({
  auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } },
});

describe('imagePullSecrets against a registry that wants a login', () => {
  let server: http.Server;
  let host: string;
  let home: string;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.url === '/v2/') {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"' }).end();
        return;
      }
      if (req.url !== '/v2/team/app/manifests/v1') {
        res.writeHead(404).end();
        return;
      }
      if (req.headers.authorization !== basic('puller', 's3cret')) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"' }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end(MANIFEST);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // No auth file of the host's may answer for this registry.
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-pullsecret-'));
  });
  afterAll(() => {
    server.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const env = () => ({ HOME: home, PATH: process.env.PATH });
  const client = (pullSecrets?: { name: string; dockerConfig: Record<string, unknown> }[]) =>
    new RegistryClient(parseReference(`${host}/team/app:v1`), { env: env(), pullSecrets, backoffMs: 1 });

  it("pulls with the login of the pod's dockerconfigjson Secret", async () => {
    seen.length = 0;
    const m = await client([{ name: 'regcred', dockerConfig: dockerConfig(host, 'puller', 's3cret') }]).manifest('v1');
    expect(m.bytes.toString()).toBe(MANIFEST);
    expect(seen).toContain(basic('puller', 's3cret'));
  });

  it('takes the first Secret that has a login for this registry, skipping others', async () => {
    const m = await client([
      { name: 'other', dockerConfig: dockerConfig('registry.example.com', 'x', 'y') },
      { name: 'regcred', dockerConfig: dockerConfig(host, 'puller', 's3cret') },
    ]).manifest('v1');
    expect(m.bytes.toString()).toBe(MANIFEST);
  });

  it("comes before the host's auth files, as kubelet's pull secrets do", async () => {
    fs.mkdirSync(path.join(home, '.docker'), { recursive: true });
    fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify(dockerConfig(host, 'puller', 'wrong')));
    try {
      await expect(
        client([{ name: 'regcred', dockerConfig: dockerConfig(host, 'puller', 's3cret') }]).manifest('v1'),
      ).resolves.toBeDefined();
      // Without the Secret, the auth file's (wrong) login is used, and named.
      await expect(client().manifest('v1')).rejects.toThrow(/refused the credentials from .*\.docker\/config\.json/);
    } finally {
      fs.rmSync(path.join(home, '.docker'), { recursive: true, force: true });
    }
  });

  it('without a login the registry refuses, and the error says how to give one', async () => {
    seen.length = 0;
    await expect(client().manifest('v1')).rejects.toThrow(/requires authentication/);
    expect(seen.every((h) => h === undefined)).toBe(true);
  });
});
