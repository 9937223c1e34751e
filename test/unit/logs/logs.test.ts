import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CriLogWriter, formatCriLine, parseCriLine, rfc3339Nano } from '../../../src/logs/cri-log.js';
import { filterLines, mergeByTime, parseLogText, parseSince, timeKey } from '../../../src/logs/read-logs.js';

describe('CRI log lines', () => {
  it('formats and parses', () => {
    const line = formatCriLine('2026-11-25T08:00:00.000000001Z', 'stdout', true, 'hello world');
    expect(line).toBe('2026-11-25T08:00:00.000000001Z stdout F hello world\n');
    expect(parseCriLine(line.trimEnd())).toEqual({
      time: '2026-11-25T08:00:00.000000001Z',
      stream: 'stdout',
      full: true,
      text: 'hello world',
    });
  });
  it('has nanoseconds', () => {
    expect(rfc3339Nano()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });
  it('writes whole lines, splits long ones into P records, and joins them back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-log-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'c.log');
    const seen: string[] = [];
    const w = new CriLogWriter(file, (_s, t) => seen.push(t));
    w.write('stdout', 'a\nb');
    w.write('stdout', 'c\n');
    w.write('stderr', 'x'.repeat(20000) + '\n');
    w.write('stdout', 'tail without newline');
    w.close();
    const lines = parseLogText('c', fs.readFileSync(file, 'utf8'));
    expect(lines.map((l) => [l.stream, l.text.length > 50 ? l.text.length : l.text])).toEqual([
      ['stdout', 'a'],
      ['stdout', 'bc'],
      ['stderr', 20000],
      ['stdout', 'tail without newline'],
    ]);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/ stderr P x+\n/);
  });
});

describe('reading logs', () => {
  const l = (container: string, time: string, text: string) => ({ container, time, stream: 'stdout' as const, text });
  it('merges containers by time and filters since/tail', () => {
    const a = [l('a', '2026-01-01T00:00:01.5Z', 'a1'), l('a', '2026-01-01T00:00:03Z', 'a2')];
    const b = [l('b', '2026-01-01T00:00:02.000000001Z', 'b1')];
    expect(mergeByTime([a, b]).map((x) => x.text)).toEqual(['a1', 'b1', 'a2']);
    expect(filterLines(a, { since: '2026-01-01T00:00:02Z' }).map((x) => x.text)).toEqual(['a2']);
    expect(filterLines(a, { tail: 1 }).map((x) => x.text)).toEqual(['a2']);
    expect(filterLines(a, { tail: 0 })).toEqual([]);
  });
  it('accepts durations for --since', () => {
    expect(parseSince('10s', Date.parse('2026-01-01T00:00:10Z'))).toBe('2026-01-01T00:00:00.000Z');
    expect(() => parseSince('yesterday')).toThrow(/--since/);
  });
  it('compares fractions of any length', () => {
    expect(timeKey('2026-01-01T00:00:01.5Z') > timeKey('2026-01-01T00:00:01.123456789Z')).toBe(true);
  });
});

describe("conmon's k8s-file log", () => {
  it('reads its offset times as UTC and keeps output that ended without a newline', () => {
    const text = [
      '2026-12-01T09:33:50.379411924+00:00 stdout F line 0',
      '2026-12-01T10:33:51.405100770+01:00 stdout P partial',
      '2026-12-01T09:33:51.405142319+00:00 stderr F err',
      '',
    ].join('\n');
    expect(parseLogText('c', text, true)).toEqual([
      { container: 'c', time: '2026-12-01T09:33:50.379411924Z', stream: 'stdout', text: 'line 0' },
      { container: 'c', time: '2026-12-01T09:33:51.405142319Z', stream: 'stderr', text: 'err' },
      { container: 'c', time: '2026-12-01T09:33:51.405100770Z', stream: 'stdout', text: 'partial' },
    ]);
    // Followed (logs -f): the partial line waits for the rest.
    expect(parseLogText('c', text).map((l) => l.text)).toEqual(['line 0', 'err']);
  });
});
