import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { describe, expect, it } from 'vitest';
import { encodeRightsControl } from '../../../src/syscall/cmsg.js';
import { LinuxSyscall } from '../../../src/syscall/linux.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';
import { sendConsoleMaster } from '../../../src/process/console.js';
import { openPty } from '../../../src/process/pty.js';

describe('console socket', () => {
  it('connects, sends the master with its pty name in one SCM_RIGHTS message, and closes the socket', () => {
    const sys = new RecordingSyscall();
    sys.ptyNumber = (master: number): number => (master === 42 ? 3 : -1);
    sendConsoleMaster(sys, '/run/conmon/term.sock', 42);
    expect(sys.calls.map((c) => c.name)).toEqual(['connectUnixSocket', 'setNonBlocking', 'sendFds', 'close']);
    expect(sys.callsOf('setNonBlocking')).toEqual([[42, false]]);
    const [socket, data, fds, control] = sys.callsOf('sendFds')[0]!;
    expect(socket).toBe(100);
    expect((data as Buffer).toString()).toBe('/dev/pts/3');
    expect(fds).toEqual([42]);
    expect(control).toEqual(encodeRightsControl([42]));
    expect(sys.callsOf('close')).toEqual([[100]]);
  });

  it('closes the socket when the send fails, and the error names the call', () => {
    const sys = new RecordingSyscall();
    sys.failNext('sendFds', 32); // EPIPE: the caller went away
    expect(() => sendConsoleMaster(sys, '/tmp/x.sock', 5)).toThrow(/sendFds/);
    expect(sys.callsOf('close')).toEqual([[100]]);
  });

  // Any user may open /dev/ptmx and a socket in a temp dir: the real path needs no root.
  it.skipIf(!fs.existsSync('/dev/ptmx'))('hands a working pty master to a real listener', () => {
    const sys = new LinuxSyscall();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-'));
    const listener = sys.listenUnixSocket(path.join(dir, 'sock'));
    const pty = openPty('/dev/ptmx', sys);
    try {
      sendConsoleMaster(sys, path.join(dir, 'sock'), pty.master);
      const conn = sys.acceptConnection(listener);
      const got = sys.receiveFds(conn, 4096);
      sys.close(conn);
      expect(got.data.toString()).toMatch(/^\/dev\/pts\/\d+$/);
      expect(tty.isatty(got.fds[0]!)).toBe(true);
      expect(fs.readlinkSync(`/proc/self/fd/${pty.slave}`)).toBe(got.data.toString());
      sys.close(got.fds[0]!);
    } finally {
      sys.close(pty.master);
      sys.close(pty.slave);
      sys.close(listener);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
