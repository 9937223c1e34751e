import { describe, expect, it } from 'vitest';
import { filterPsTable, parsePsFormat, pidColumn, psJson } from '../../../src/oci/client/ps-output.js';
import {
  mergeResources,
  orderV1MemoryWrites,
  parseBytes,
  parseResourcesJson,
  resourcesFromFlags,
} from '../../../src/oci/client/update-resources.js';
import { execProcessFromFlags, execProcessFromJson, parseExecUser } from '../../../src/oci/client/exec-process.js';

const PS_EF = [
  'UID          PID    PPID  C STIME TTY          TIME CMD',
  'root           1       0  0 09:00 ?        00:00:01 /sbin/init',
  'root        4242    4200  0 09:01 ?        00:00:00 sleep 300',
  'root        4250    4242  0 09:01 ?        00:00:00 sh -c echo 1 2 3',
  '',
].join('\n');

describe('ps', () => {
  it('prints the cgroup pids as a JSON array, [] when empty', () => {
    expect(psJson([4242, 4250])).toBe('[4242,4250]\n');
    expect(psJson([])).toBe('[]\n');
  });

  it('keeps the header and the lines whose PID column is in the container', () => {
    expect(filterPsTable(PS_EF, [4242, 4250])).toBe([PS_EF.split('\n')[0], PS_EF.split('\n')[2], PS_EF.split('\n')[3], ''].join('\n'));
    expect(filterPsTable(PS_EF, [])).toBe(`${PS_EF.split('\n')[0]}\n`);
  });

  it('finds PID wherever the ps options put it, and fails as runc without one', () => {
    expect(pidColumn('  PID COMMAND')).toBe(0);
    expect(filterPsTable('  PID COMMAND\n 4242 sleep\n   17 other\n', [4242])).toBe('  PID COMMAND\n 4242 sleep\n');
    expect(() => pidColumn('COMMAND')).toThrow("couldn't find PID field in ps output");
  });

  it('takes table or json', () => {
    expect(parsePsFormat(undefined)).toBe('table');
    expect(parsePsFormat('json')).toBe('json');
    expect(() => parsePsFormat('yaml')).toThrow(/invalid format option: yaml/);
  });
});

describe('update resources', () => {
  it('reads sizes as runc does', () => {
    expect(parseBytes('memory', '1048576')).toBe(1048576);
    expect(parseBytes('memory', '256m')).toBe(256 * 1024 * 1024);
    expect(parseBytes('memory', '1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('memory', '512kb')).toBe(512 * 1024);
    expect(parseBytes('memory', '-1')).toBe(-1);
    expect(() => parseBytes('memory', 'lots')).toThrow(/--memory/);
  });

  it('turns flags into LinuxResources sections', () => {
    const flags = new Map([
      ['memory', '64m'],
      ['memory-swap', '-1'],
      ['pids-limit', '20'],
      ['cpu-quota', '50000'],
      ['cpu-period', '100000'],
      ['cpuset-cpus', '0'],
      ['blkio-weight', '300'],
    ]);
    expect(resourcesFromFlags(flags)).toEqual({
      memory: { limit: 64 * 1024 * 1024, swap: -1 },
      pids: { limit: 20 },
      cpu: { quota: 50000, period: 100000, cpus: '0' },
      blockIO: { weight: 300 },
    });
    expect(() => resourcesFromFlags(new Map([['cpu-shares', '-2']]))).toThrow(/--cpu-shares.*non-negative/);
    expect(() => resourcesFromFlags(new Map([['pids-limit', 'x']]))).toThrow(/--pids-limit/);
  });

  it('parses the JSON containerd sends and lays flags over it', () => {
    const json = parseResourcesJson('{"memory":{"limit":1000,"swap":2000},"cpu":{"shares":512},"devices":[]}', '-');
    expect(json).toEqual({ memory: { limit: 1000, swap: 2000 }, cpu: { shares: 512 } });
    expect(mergeResources(json, { memory: { limit: 500 } })).toEqual({ memory: { limit: 500, swap: 2000 }, cpu: { shares: 512 } });
    expect(() => parseResourcesJson('{', 'r.json')).toThrow(/--resources r.json: not JSON/);
    expect(() => parseResourcesJson('[1]', '-')).toThrow(/not a LinuxResources object/);
    expect(() => parseResourcesJson('{"devices":[{"allow":true}]}', '-')).toThrow(/devices cgroup cannot be updated/);
  });

  it('orders v1 memory writes so the kernel takes them', () => {
    const limit = { controller: 'memory', file: 'memory.limit_in_bytes', value: '200' };
    const memsw = { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '300' };
    const pids = { controller: 'pids', file: 'pids.max', value: '5' };
    expect(orderV1MemoryWrites([limit, memsw, pids], 100)).toEqual([memsw, limit, pids]);
    expect(orderV1MemoryWrites([limit, memsw], 1000)).toEqual([limit, memsw]);
    expect(orderV1MemoryWrites([limit], 100)).toEqual([{ ...limit, file: 'memory.memsw.limit_in_bytes' }, limit]);
    expect(orderV1MemoryWrites([limit], 1000)).toEqual([limit]);
    expect(orderV1MemoryWrites([limit], undefined)).toEqual([limit]);
  });
});

const CONFIG_PROCESS = {
  terminal: false,
  user: { uid: 0, gid: 0, additionalGids: [10] },
  args: ['sleep', '300'],
  env: ['PATH=/bin', 'TERM=xterm'],
  cwd: '/',
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  noNewPrivileges: false,
  consoleSize: { height: 10, width: 20 },
};
const NONE = { env: [], additionalGids: [], caps: [], noNewPrivs: false, tty: false };

describe('exec process', () => {
  it('takes the container process and lays the flags over it', () => {
    const p = execProcessFromFlags(CONFIG_PROCESS, {
      ...NONE,
      args: ['sh', '-c', 'id'],
      env: ['FOO=bar'],
      cwd: '/tmp',
      user: '1000:1001',
      caps: ['CAP_NET_ADMIN'],
      noNewPrivs: true,
      tty: true,
    });
    expect(p.spec.args).toEqual(['sh', '-c', 'id']);
    expect(p.spec.env).toEqual(['PATH=/bin', 'TERM=xterm', 'FOO=bar']);
    expect(p.spec.cwd).toBe('/tmp');
    expect(p.spec.user).toMatchObject({ uid: 1000, gid: 1001, groups: [10] });
    expect(p.spec.capabilities.bounding).toEqual([5, 12]);
    expect(p.spec.capabilities.ambient).toEqual([]);
    expect(p.spec.noNewPrivileges).toBe(true);
    expect(p.terminal).toBe(true);
    // The container's console size is its own, not the exec's.
    expect(p.consoleSize).toBeUndefined();
    // The config is not changed in place.
    expect(CONFIG_PROCESS.env).toHaveLength(2);
  });

  it('keeps the container user when --user is absent and replaces only the uid with uid alone', () => {
    expect(execProcessFromFlags(CONFIG_PROCESS, { ...NONE, args: ['id'] }).spec.user).toMatchObject({ uid: 0, gid: 0 });
    expect(execProcessFromFlags(CONFIG_PROCESS, { ...NONE, args: ['id'], user: '7' }).spec.user).toMatchObject({ uid: 7, gid: 0 });
    expect(parseExecUser('1:2')).toEqual({ uid: 1, gid: 2 });
    expect(() => parseExecUser('nobody')).toThrow(/--user: "nobody" is not a numeric id/);
    expect(() => parseExecUser('1:2:3')).toThrow(/uid\[:gid\]/);
  });

  it('refuses a missing command, a bad --env, an unknown --cap', () => {
    expect(() => execProcessFromFlags(CONFIG_PROCESS, { ...NONE, args: [] })).toThrow(/needs a command/);
    expect(() => execProcessFromFlags(CONFIG_PROCESS, { ...NONE, args: ['x'], env: ['NOEQUALS'] })).toThrow(/--env/);
    expect(() => execProcessFromFlags(CONFIG_PROCESS, { ...NONE, args: ['x'], caps: ['CAP_NOPE'] })).toThrow(/CAP_NOPE/);
  });

  it('reads a process.json as conmon writes it, consoleSize included', () => {
    const p = execProcessFromJson(JSON.stringify({ ...CONFIG_PROCESS, terminal: true, args: ['sh'] }), 'p.json');
    expect(p.terminal).toBe(true);
    expect(p.consoleSize).toEqual({ height: 10, width: 20 });
    expect(p.spec.args).toEqual(['sh']);
    expect(() => execProcessFromJson('{', 'p.json')).toThrow(/--process p.json: not JSON/);
    expect(() => execProcessFromJson(JSON.stringify({ ...CONFIG_PROCESS, cwd: 'rel' }), 'p.json')).toThrow(
      /--process p.json: .*process.cwd/,
    );
  });
});
