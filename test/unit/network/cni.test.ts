import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CniError, cniErrorFromExit, parseCniErrorJson } from '../../../src/network/cni/errors.js';
import { parseCniResult, summarizeResult } from '../../../src/network/cni/result.js';
import { addNetworkList, delNetworkList } from '../../../src/network/cni/runner.js';
import type { CniConfList } from '../../../src/network/cni/types.js';

const bridgeResult = `{
  "cniVersion": "1.0.0",
  "interfaces": [
    {"name": "minipod0", "mac": "de:ca:de:94:44:85"},
    {"name": "vethbed323d0", "mac": "7a:da:a3:29:d0:e0"},
    {"name": "eth0", "mac": "f2:b1:22:94:ea:bb", "sandbox": "/proc/42/ns/net"}
  ],
  "ips": [{"interface": 2, "address": "10.89.0.2/24", "gateway": "10.89.0.1"}],
  "routes": [{"dst": "0.0.0.0/0"}],
  "dns": {}
}`;

describe('CNI results', () => {
  it('reads the pod address from a 1.0.0 bridge result', () => {
    const r = parseCniResult('bridge', bridgeResult);
    expect(summarizeResult(r)).toEqual({ ip: '10.89.0.2', prefixLength: 24, gateway: '10.89.0.1', interface: 'eth0' });
  });

  it('reads 0.4.0 results (ips carry a version) and skips IPv6', () => {
    const r = parseCniResult(
      'bridge',
      JSON.stringify({
        cniVersion: '0.4.0',
        interfaces: [{ name: 'eth0', sandbox: '/x' }],
        ips: [
          { version: '6', address: 'fd00::2/64', interface: 0 },
          { version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 0 },
        ],
      }),
    );
    expect(summarizeResult(r).ip).toBe('10.1.0.5');
  });

  it('converts pre-0.3 ip4 results', () => {
    const r = parseCniResult('x', '{"cniVersion":"0.2.0","ip4":{"ip":"10.2.0.3/24","gateway":"10.2.0.1"}}');
    expect(summarizeResult(r)).toMatchObject({ ip: '10.2.0.3', gateway: '10.2.0.1' });
  });

  it("rejects output that is not a result, naming the plugin: the plugin's failure (a CniError)", () => {
    expect(() => parseCniResult('portmap', 'oops')).toThrow(/CNI plugin portmap ADD: result is not JSON/);
    expect(() => parseCniResult('portmap', 'oops')).toThrow(CniError);
    expect(() => parseCniResult('portmap', '{"ips":[]}')).toThrow(/no cniVersion/);
  });
});

describe('CNI errors', () => {
  it('parses the spec error object', () => {
    expect(parseCniErrorJson('{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"why"}')).toEqual({
      code: 7,
      msg: 'bad',
      details: 'why',
    });
    expect(parseCniErrorJson('not json')).toBeUndefined();
    expect(parseCniErrorJson('{"cniVersion":"1.0.0"}')).toBeUndefined();
  });

  it('names plugin, command, message and details', () => {
    const e = cniErrorFromExit('bridge', 'ADD', {
      code: 1,
      signal: null,
      stdout: '{"code":11,"msg":"failed to allocate for range 0","details":"no IP addresses available"}',
      stderr: '',
      timedOut: false,
    });
    expect(e).toBeInstanceOf(CniError);
    expect(e.message).toBe('CNI plugin bridge ADD: failed to allocate for range 0: no IP addresses available');
    expect(e.cniCode).toBe(11);
  });

  it('falls back to stderr, signals and timeouts', () => {
    const base = { code: 2, signal: null, stdout: '', stderr: 'panic: boom\n', timedOut: false };
    expect(cniErrorFromExit('x', 'DEL', base).message).toBe('CNI plugin x DEL: exit status 2: panic: boom');
    expect(cniErrorFromExit('x', 'ADD', { ...base, timedOut: true }, 5000).message).toBe('CNI plugin x ADD: timed out after 5s');
    expect(cniErrorFromExit('x', 'ADD', { ...base, code: null, signal: 'SIGSEGV', stderr: '' }).message).toBe(
      'CNI plugin x ADD: killed by SIGSEGV',
    );
  });
});

describe('running a conflist with fake plugins', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-cni-'));
  const log = path.join(dir, 'log');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Each fake plugin logs its env and stdin, then answers like a real one.
  const plugin = (name: string, body: string) => {
    fs.writeFileSync(
      path.join(dir, name),
      `#!/bin/sh\nin=$(cat)\necho "${name} $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME $CNI_PATH $in" >> ${log}\n${body}\n`,
      { mode: 0o755 },
    );
  };
  plugin('first', `echo '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}'`);
  plugin('second', `echo "$in" | sed 's/.*"prevResult":\\(.*\\)}$/\\1/'`);
  plugin('failing', `echo '{"cniVersion":"1.0.0","code":7,"msg":"invalid config","details":"no bridge"}'; exit 1`);
  plugin('slow', 'sleep 5');

  const rt = { containerId: 'pod1', netns: '/proc/1/ns/net', ifName: 'eth0', pluginDirs: [dir] };
  const list = (...types: string[]): CniConfList => ({ cniVersion: '1.0.0', name: 'net', plugins: types.map((type) => ({ type })) });

  it('chains ADD with prevResult and runs DEL in reverse', async () => {
    fs.rmSync(log, { force: true });
    const res = await addNetworkList(list('first', 'second'), rt);
    expect(res.ips?.[0]?.address).toBe('10.9.0.2/24');
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^first ADD pod1 /proc/1/ns/net eth0 ${dir} \\{`));
    expect(lines[1]).toContain('"prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}');
    fs.rmSync(log);
    expect(await delNetworkList(list('first', 'second'), { ...rt, netns: '' }, res)).toEqual([]);
    const del = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(del.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['second DEL', 'first DEL']);
  });

  it('turns a plugin error into a CniError naming the plugin', async () => {
    await expect(addNetworkList(list('first', 'failing'), rt)).rejects.toThrow('CNI plugin failing ADD: invalid config: no bridge');
  });

  it('DEL keeps going past a failing plugin', async () => {
    const errors = await delNetworkList(list('first', 'failing'), rt);
    expect(errors.map((e) => e.message)).toEqual(['CNI plugin failing DEL: invalid config: no bridge']);
  });

  it('kills a plugin that hangs', async () => {
    await expect(addNetworkList(list('slow'), { ...rt, timeoutMs: 300 })).rejects.toThrow('CNI plugin slow ADD: timed out');
  });
});
