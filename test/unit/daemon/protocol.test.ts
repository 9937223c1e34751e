import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callDaemon, connectDaemon, daemonDied, sendRequest, throwIfError } from '../../../src/daemon/client.js';
import { PROTOCOL_VERSION, readJsonLines, writeJsonLine, type DaemonMessage } from '../../../src/daemon/protocol.js';
import { HostError, UserError } from '../../../src/errors.js';
import { daemonFiles, minipodPaths, type MinipodPaths } from '../../../src/paths.js';

let dir: string;
let paths: MinipodPaths;
let server: net.Server | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-daemon-unit-'));
  paths = minipodPaths({ MINIPOD_RUN_DIR: dir });
});

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A fake daemon: answers each request with `answer(request)`, then closes. */
function fakeDaemon(answer: (req: Record<string, unknown>) => DaemonMessage[]): Promise<void> {
  server = net.createServer((conn) => {
    readJsonLines<Record<string, unknown>>(conn, (req) => {
      for (const m of answer(req)) writeJsonLine(conn, m);
      conn.end();
    });
  });
  return new Promise((resolve) => server!.listen(daemonFiles(paths).socket, () => resolve()));
}

describe('daemon client', () => {
  it('finds no daemon without starting one', async () => {
    expect(await connectDaemon(paths, false)).toBeUndefined();
    expect(await callDaemon(paths, { op: 'status' })).toBeUndefined();
  });

  it('sends its version and paths, passes progress on and returns the final answer', async () => {
    let seen: Record<string, unknown> | undefined;
    await fakeDaemon((req) => {
      seen = req;
      return [
        { t: 'out', s: 'stdout', x: 'web | hello\n' },
        { t: 'exit', code: 3 },
      ];
    });
    const socket = (await connectDaemon(paths, false))!;
    const progress: DaemonMessage[] = [];
    const final = await sendRequest(socket, paths, { op: 'stop', pod: 'web' }, (m) => progress.push(m)).result;
    expect(seen).toMatchObject({ op: 'stop', pod: 'web', version: PROTOCOL_VERSION, paths });
    expect(progress).toEqual([{ t: 'out', s: 'stdout', x: 'web | hello\n' }]);
    expect(final).toEqual({ t: 'exit', code: 3 });
    expect(daemonDied(final!)).toBe(false);
  });

  it("reports a connection closed without an answer as the host's state (a daemon that died), with its log as the hint", async () => {
    await fakeDaemon(() => []);
    const final = await callDaemon(paths, { op: 'status' });
    expect(final).toMatchObject({ t: 'error', exitCode: 125, code: 'host', hint: daemonFiles(paths).log });
    expect(() => throwIfError(final!)).toThrow(HostError);
    expect(() => throwIfError(final!)).toThrow(/daemon exited before it answered/);
    expect(daemonDied(final!)).toBe(true);
  });

  it('turns an error answer back into a UserError with its code and exit status', () => {
    let caught: unknown;
    try {
      throwIfError({ t: 'error', message: 'pod "x" already exists', exitCode: 125, code: 'pod.exists' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).code).toBe('pod.exists');
  });
});

describe('readJsonLines', () => {
  it('drops a peer that sends garbage', async () => {
    const got: unknown[] = [];
    server = net.createServer((conn) => readJsonLines(conn, (v) => got.push(v)));
    await new Promise<void>((resolve) => server!.listen(daemonFiles(paths).socket, () => resolve()));
    const c = net.connect(daemonFiles(paths).socket);
    await new Promise((r) => c.once('connect', r));
    c.write('{"a":1}\nnot json\n{"b":2}\n');
    await new Promise((r) => c.once('close', r));
    expect(got).toEqual([{ a: 1 }]);
  });
});
