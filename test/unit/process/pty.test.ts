import fs from 'node:fs';
import tty from 'node:tty';
import { describe, expect, it } from 'vitest';
import { decodeWinsize, encodeWinsize, getWindowSize, openPty, ptyNumber, setWindowSize } from '../../../src/process/pty.js';

describe('pty helpers', () => {
  it('encodes struct winsize as rows, cols and zero pixels', () => {
    const buf = encodeWinsize({ rows: 40, cols: 120 });
    expect([...buf]).toEqual([40, 0, 120, 0, 0, 0, 0, 0]);
    expect(decodeWinsize(buf)).toEqual({ rows: 40, cols: 120 });
    expect(decodeWinsize(encodeWinsize({ rows: -1, cols: 1e9 }))).toEqual({ rows: 0, cols: 65535 });
  });

  // Any user may open /dev/ptmx: this needs no root.
  it.skipIf(!fs.existsSync('/dev/ptmx'))('opens a pty whose slave is a terminal of the size set on the master', () => {
    const pty = openPty('/dev/ptmx');
    try {
      expect(tty.isatty(pty.master)).toBe(true);
      expect(tty.isatty(pty.slave)).toBe(true);
      expect(fs.readlinkSync(`/proc/self/fd/${pty.slave}`)).toBe(`/dev/pts/${ptyNumber(pty.master)}`);
      setWindowSize(pty.master, { rows: 33, cols: 101 });
      expect(getWindowSize(pty.slave)).toEqual({ rows: 33, cols: 101 });
      // Bytes written to the slave come out of the master (with the line discipline's \r\n).
      fs.writeSync(pty.slave, 'hi\n');
      const buf = Buffer.alloc(16);
      const n = fs.readSync(pty.master, buf);
      expect(buf.subarray(0, n).toString()).toBe('hi\r\n');
    } finally {
      fs.closeSync(pty.slave);
      fs.closeSync(pty.master);
    }
  });

  it('refuses a path that is not a pty multiplexer', () => {
    expect(() => openPty('/dev/null')).toThrow(/not a pty multiplexer/);
  });
});
