import { describe, expect, it } from 'vitest';
import { parseArgs, intFlag, requireOperands } from '../../../src/oci/cli/args.js';
import { parseGlobals } from '../../../src/oci/cli/main.js';
import { formatLogLine } from '../../../src/oci/cli/log.js';
import { CREATE_FLAGS } from '../../../src/oci/commands/create.js';
import { parseSignal } from '../../../src/oci/commands/signals.js';

describe('minipod-oci argument handling', () => {
  it('reads global flags before the subcommand, as runc does', () => {
    const g = parseGlobals(['--root', '/run/x', '--log=/tmp/l.json', '--log-format', 'json', 'create', '--bundle', 'b', 'id']);
    expect(g.global).toEqual({ root: '/run/x', log: '/tmp/l.json', logFormat: 'json', debug: false });
    expect(g.rest).toEqual(['create', '--bundle', 'b', 'id']);
  });

  it('defaults --root to /run/minipod-oci and refuses --systemd-cgroup and unknown log formats', () => {
    expect(parseGlobals(['state', 'x']).global.root).toBe('/run/minipod-oci');
    expect(() => parseGlobals(['--systemd-cgroup', 'create', 'x'])).toThrow(/--systemd-cgroup: .*cgroupfs/);
    expect(() => parseGlobals(['--log-format', 'xml', 'state', 'x'])).toThrow(/--log-format: unknown format "xml"/);
  });

  it("parses conmon's create call", () => {
    const p = parseArgs(['--bundle', '/b', '--pid-file', '/p', '--no-new-keyring', '--preserve-fds', '2', 'ctr'], CREATE_FLAGS);
    expect(p.flags.get('bundle')).toBe('/b');
    expect(p.flags.get('pid-file')).toBe('/p');
    expect(p.flags.get('no-new-keyring')).toBe(true);
    expect(intFlag(p, 'preserve-fds', 0)).toBe(2);
    expect(p.operands).toEqual(['ctr']);
    expect(parseArgs(['-b', '/b', 'x'], CREATE_FLAGS).flags.get('bundle')).toBe('/b');
  });

  it('refuses unknown flags, missing values and wrong operand counts', () => {
    expect(() => parseArgs(['--nope', 'x'], CREATE_FLAGS)).toThrow('flag provided but not defined: --nope');
    expect(() => parseArgs(['--bundle'], CREATE_FLAGS)).toThrow('flag needs an argument: --bundle');
    expect(() => requireOperands(parseArgs([], CREATE_FLAGS), 'create', 1)).toThrow('"create" requires exactly 1 argument(s)');
    expect(() => intFlag(parseArgs(['--preserve-fds', 'x', 'i'], CREATE_FLAGS), 'preserve-fds', 0)).toThrow(/--preserve-fds/);
  });

  it('writes log lines as runc (logrus) does', () => {
    const t = new Date('2026-12-01T10:00:00.000Z');
    expect(formatLogLine('json', 'error', 'container x does not exist', t)).toBe(
      '{"level":"error","msg":"container x does not exist","time":"2026-12-01T10:00:00.000Z"}\n',
    );
    expect(formatLogLine('text', 'warning', 'a "b"', t)).toBe('time="2026-12-01T10:00:00.000Z" level=warning msg="a \\"b\\""\n');
  });

  it('takes signals by name or number', () => {
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('SIGTERM')).toBe(15);
    expect(parseSignal('hup')).toBe(1);
    expect(() => parseSignal('NOPE')).toThrow('unknown signal "NOPE"');
  });
});
