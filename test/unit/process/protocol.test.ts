import { describe, expect, it } from 'vitest';
import { encodeMessage, LineReader, parseHelperMessage, parsePlan, ProtocolError } from '../../../src/process/protocol.js';

describe('helper protocol messages', () => {
  it('round-trips ready and error as one JSON line each', () => {
    expect(encodeMessage({ type: 'ready' })).toBe('{"type":"ready"}\n');
    const line = encodeMessage({ type: 'error', message: 'exec /x: ENOENT', exitCode: 127 });
    expect(line.endsWith('\n')).toBe(true);
    expect(parseHelperMessage(line.trim())).toEqual({ type: 'error', message: 'exec /x: ENOENT', exitCode: 127 });
    expect(parseHelperMessage('{"type":"ready"}')).toEqual({ type: 'ready' });
  });

  it("carries whose failure it was and the host's hint, so the supervisor reports it as the host's", () => {
    const m = {
      type: 'error',
      message: 'mount proc on /proc: EBUSY',
      exitCode: 125,
      kind: 'host',
      hint: 'something else holds it',
    } as const;
    expect(parseHelperMessage(encodeMessage(m).trim())).toEqual(m);
    expect(parseHelperMessage('{"type":"error","message":"x","exitCode":125,"kind":"nobody","hint":3}')).toEqual({
      type: 'error',
      message: 'x',
      exitCode: 125,
    });
  });

  it('refuses what is not a message, instead of matching a substring', () => {
    // The old client took any line containing "ready" for the ready message.
    expect(() => parseHelperMessage('{"type":"error","message":"not \\"ready\\""}')).toThrow(ProtocolError);
    expect(() => parseHelperMessage('{"type":"readyish"}')).toThrow(/unknown message/);
    expect(() => parseHelperMessage('ready')).toThrow(/garbage/);
    expect(() => parseHelperMessage('null')).toThrow(ProtocolError);
  });

  it('accepts the three plan kinds only', () => {
    expect(parsePlan('{"kind":"exec","id":"p/c"}').kind).toBe('exec');
    expect(() => parsePlan('{"kind":"shell"}')).toThrow(/unknown plan kind shell/);
  });

  it('splits a stream into whole lines, however it is chunked', () => {
    const r = new LineReader();
    expect(r.push('{"type":"re')).toEqual([]);
    expect(r.push('ady"}\n{"type":"error",')).toEqual(['{"type":"ready"}']);
    expect(r.push('"message":"m","exitCode":125}\n\n')).toEqual(['{"type":"error","message":"m","exitCode":125}']);
    expect(r.push('{"partial"')).toEqual([]);
    expect(r.rest()).toBe('{"partial"');
  });
});
