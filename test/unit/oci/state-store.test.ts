import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkContainerId, type ContainerRecord, readProcStat, StateStore, stateOf } from '../../../src/oci/state/store.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-store-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(id: string, pid: number, start: string): ContainerRecord {
  return {
    ociVersion: '1.0.2',
    id,
    pid,
    pidStartTime: start,
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2026-12-01T00:00:00Z',
    annotations: { a: 'b' },
  };
}

describe('the state store', () => {
  it('checks ids as runc does', () => {
    expect(() => checkContainerId('ok_id-1.2+x')).not.toThrow();
    for (const bad of ['', '.', '..', 'a/b', 'a b']) expect(() => checkContainerId(bad)).toThrow(/invalid container id format/);
  });

  it('claims an id once', () => {
    const store = new StateStore(path.join(dir, 'root'));
    store.claim('c1');
    expect(() => store.claim('c1')).toThrow('container with id exists: c1');
  });

  it('says "does not exist" for an unknown id', () => {
    expect(() => new StateStore(dir).load('nope')).toThrow('container nope does not exist');
  });

  it('reads the status from the kernel: running for a live pid, created while the fifo exists, stopped otherwise', () => {
    const store = new StateStore(dir);
    store.claim('c');
    const me = readProcStat(process.pid)!;
    store.save(record('c', process.pid, me.startTime));
    expect(stateOf(store, store.load('c'))).toMatchObject({ status: 'running', pid: process.pid, annotations: { a: 'b' }, bundle: '/b' });
    fs.writeFileSync(store.fifo('c'), '');
    expect(stateOf(store, store.load('c')).status).toBe('created');
    // A recycled pid (another start time) is not the container.
    store.save(record('c', process.pid, '1'));
    expect(stateOf(store, store.load('c'))).toMatchObject({ status: 'stopped', pid: 0 });
    expect(store.ids()).toEqual(['c']);
    store.remove('c');
    expect(store.ids()).toEqual([]);
  });
});
