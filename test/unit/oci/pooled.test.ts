/** The pooled create's stub config.json (src/oci/config/pooled.ts): written, read back, checked against the real config. */
import { describe, expect, it } from 'vitest';
import { parsePooledStub, POOLED, pooledMismatch, pooledStubConfig } from '../../../src/oci/config/pooled.js';

const namespaces = [
  { type: 'pid' as const, path: '/proc/42/ns/pid' },
  { type: 'network' as const, path: '/proc/42/ns/net' },
  { type: 'ipc' as const, path: '/proc/42/ns/ipc' },
  { type: 'uts' as const, path: '/proc/42/ns/uts' },
];

describe('the pooled stub config', () => {
  it('names what to wait for, the daemon, and the namespaces to spawn the helper into', () => {
    expect(pooledStubConfig({ namespaces, owner: { pid: 7, startTime: 1234 } }, '1.2.0')).toEqual({
      ociVersion: '1.2.0',
      annotations: { 'minipod.io/pooled-config-wait': 'config.json', 'minipod.io/pooled-owner': '7:1234' },
      linux: { namespaces },
    });
  });

  it('names the priority to return to once claimed, when given one', () => {
    expect(pooledStubConfig({ namespaces, owner: { pid: 7, startTime: 1234 }, priority: -5 }, '1.2.0')).toMatchObject({
      annotations: { 'minipod.io/pooled-priority': '-5' },
    });
  });

  it('reads back what it wrote; an ordinary config is no stub', () => {
    const stub = { namespaces, owner: { pid: 7, startTime: 1234 } };
    expect(parsePooledStub(JSON.parse(JSON.stringify(pooledStubConfig(stub, '1.2.0'))))).toEqual(stub);
    const withPriority = { ...stub, priority: 0 };
    expect(parsePooledStub(JSON.parse(JSON.stringify(pooledStubConfig(withPriority, '1.2.0'))))).toEqual(withPriority);
    expect(parsePooledStub({ ociVersion: '1.2.0', annotations: { 'minipod.io/id': 'p/c' }, process: {} })).toBeUndefined();
    expect(parsePooledStub({ ociVersion: '1.2.0' })).toBeUndefined();
  });

  it('refuses a malformed stub, naming the field', () => {
    const base = pooledStubConfig({ namespaces, owner: { pid: 7, startTime: 1 } }, '1.2.0') as { annotations: Record<string, string> };
    expect(() => parsePooledStub({ ...base, annotations: { ...base.annotations, [POOLED.owner]: 'me' } })).toThrow(
      'config.json: annotations["minipod.io/pooled-owner"]: is not <pid>:<start time>',
    );
    expect(() => parsePooledStub({ ...base, linux: { namespaces: [{ type: 'pid' }] } })).toThrow(
      'config.json: linux.namespaces[0]: a pooled create joins pid, network, ipc and uts namespaces by path only',
    );
    expect(() => parsePooledStub({ ...base, annotations: { ...base.annotations, [POOLED.wait]: 'other' } })).toThrow(
      'names nothing but config.json',
    );
    for (const bad of ['20', '-21', 'low', '1.5']) {
      expect(() => parsePooledStub({ ...base, annotations: { ...base.annotations, [POOLED.priority]: bad } })).toThrow(
        'config.json: annotations["minipod.io/pooled-priority"]: is not a nice value (-20 to 19)',
      );
    }
  });

  it("lets the real config use the helper only when it joins exactly the stub's namespaces, without a console", () => {
    const stub = { namespaces, owner: { pid: 7, startTime: 1 } };
    expect(pooledMismatch(stub, [{ type: 'mount' }, ...[...namespaces].reverse()], false)).toBeUndefined();
    expect(pooledMismatch(stub, namespaces, true)).toBe('a pooled create has no console socket (process.terminal)');
    expect(pooledMismatch(stub, [{ type: 'pid' }, ...namespaces.slice(1)], false)).toContain(
      'are not those the pooled helper was spawned into',
    );
    expect(pooledMismatch(stub, namespaces.slice(1), false)).toContain('are not those');
  });
});
