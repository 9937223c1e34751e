import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { containerEnv } from '../../../src/plan/container.js';
import { parseEnvFile, readEnvFiles } from '../../../src/volumes/env-file.js';

describe("Kubernetes' env file syntax", () => {
  it('reads single-quoted values literally, multi-line ones included; skips blanks and comments', () => {
    const text = "# comment\n  DB_ADDRESS = 'address'\n\nMULTI='line1\nline2'\nRAW='a $X \\\\n \"q\" # not a comment'\n";
    expect([...parseEnvFile(text, 'f')]).toEqual([
      ['DB_ADDRESS', 'address'],
      ['MULTI', 'line1\nline2'],
      ['RAW', 'a $X \\\\n "q" # not a comment'],
    ]);
  });

  it.each([
    ['VAR=value\n', 'f: line 1: the value of VAR must be in single quotes'],
    ['VAR="value"\n', 'f: line 1: the value of VAR must be in single quotes'],
    ["A='1'\nVAR='val1''val2'\n", 'f: line 2: unexpected text after the value of VAR'],
    ["VAR='a'$OTHER\n", 'f: line 1: unexpected text after the value of VAR'],
    ["VAR='open\n", 'f: line 1: the value of VAR has no closing quote'],
    ['just words\n', "f: line 1: expected NAME='value'"],
  ])('refuses %j', (text, message) => {
    expect(() => parseEnvFile(text, 'f')).toThrow(message);
  });
});

describe('env files of a container, read from its volumes', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-envfile-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const pod = (optional = false) =>
    parsePodManifest(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: {
          volumes: [{ name: 'config', emptyDir: {} }],
          containers: [
            {
              name: 'c',
              image: 'img',
              env: [
                { name: 'DB_ADDRESS', valueFrom: { fileKeyRef: { volumeName: 'config', path: 'sub/config.env', key: 'DB_ADDRESS' } } },
                { name: 'LATER', value: 'db=$(DB_ADDRESS)' },
                { name: 'GONE', valueFrom: { fileKeyRef: { volumeName: 'config', path: 'sub/config.env', key: 'NOPE', optional } } },
              ],
            },
          ],
        },
      }),
      { manifestDir: '/m' },
    );

  it('gives the value to the env, $(VAR) after it included; an optional missing key is left out', () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub/config.env'), "DB_ADDRESS='address'\n");
    const spec = pod(true);
    const files = readEnvFiles(spec.containers[0]!, { config: dir });
    expect(containerEnv(spec, spec.containers[0]!, {}, undefined, files)).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=p',
      'DB_ADDRESS=address',
      'LATER=db=address',
    ]);
  });

  it('refuses to start without a key that is not optional, naming the variable and the file', () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub/config.env'), "DB_ADDRESS='address'\n");
    const spec = pod();
    const files = readEnvFiles(spec.containers[0]!, { config: dir });
    expect(() => containerEnv(spec, spec.containers[0]!, {}, undefined, files)).toThrow(
      'env GONE: valueFrom.fileKeyRef: sub/config.env in volume config has no key "NOPE" (set optional: true to start without it)',
    );
    fs.rmSync(path.join(dir, 'sub'), { recursive: true });
    expect(() => containerEnv(spec, spec.containers[0]!, {}, undefined, readEnvFiles(spec.containers[0]!, { config: dir }))).toThrow(
      /env DB_ADDRESS: .* does not exist/,
    );
  });

  it('never follows a symlink the pod planted, on the way or at the end', () => {
    const secret = path.join(dir, 'host-secret');
    fs.writeFileSync(secret, "DB_ADDRESS='stolen'\n");
    const vol = path.join(dir, 'vol');
    fs.mkdirSync(vol);
    fs.symlinkSync(dir, path.join(vol, 'sub'));
    const spec = pod();
    expect(() => readEnvFiles(spec.containers[0]!, { config: vol })).toThrow(/not a regular file/);
    fs.rmSync(path.join(vol, 'sub'));
    fs.mkdirSync(path.join(vol, 'sub'));
    fs.symlinkSync(secret, path.join(vol, 'sub/config.env'));
    expect(() => readEnvFiles(spec.containers[0]!, { config: vol })).toThrow(/not a regular file/);
  });
});
