import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cmsgLen, cmsgSpace, decodeRightsControl, encodeRightsControl, SCM_RIGHTS, SOL_SOCKET } from '../../../src/syscall/cmsg.js';
import { LinuxSyscall } from '../../../src/syscall/linux.js';

describe('SCM_RIGHTS control messages', () => {
  it('lays out one descriptor as CMSG_SPACE(4) bytes with cmsg_len CMSG_LEN(4)', () => {
    const buf = encodeRightsControl([7]);
    expect(buf.length).toBe(24);
    expect(cmsgLen(4)).toBe(20);
    expect(cmsgSpace(4)).toBe(24);
    expect(buf.readBigUInt64LE(0)).toBe(20n);
    expect(buf.readInt32LE(8)).toBe(SOL_SOCKET);
    expect(buf.readInt32LE(12)).toBe(SCM_RIGHTS);
    expect(buf.readInt32LE(16)).toBe(7);
  });

  it('packs several descriptors in one message, padded to 8 bytes', () => {
    const buf = encodeRightsControl([3, 4, 5]);
    expect(buf.length).toBe(16 + 16);
    expect(buf.readBigUInt64LE(0)).toBe(28n);
    expect(decodeRightsControl(buf, 32)).toEqual([3, 4, 5]);
  });

  it('decodes only SCM_RIGHTS messages and stops at a truncated one', () => {
    const other = Buffer.alloc(24);
    other.writeBigUInt64LE(20n, 0);
    other.writeInt32LE(SOL_SOCKET, 8);
    other.writeInt32LE(2, 12); // SCM_CREDENTIALS
    const rights = encodeRightsControl([9]);
    const both = Buffer.concat([other, rights]);
    expect(decodeRightsControl(both, both.length)).toEqual([9]);
    expect(decodeRightsControl(both, 30)).toEqual([]);
  });

  it('refuses an empty list and what is not a descriptor', () => {
    expect(() => encodeRightsControl([])).toThrow(/at least one/);
    expect(() => encodeRightsControl([-1])).toThrow(/not a file descriptor/);
  });

  // A unix socket in a temp dir needs no root: the real sendmsg/recvmsg pass a descriptor.
  it('passes a descriptor over a unix socket for real', () => {
    const sys = new LinuxSyscall();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmsg-'));
    const sock = path.join(dir, 's');
    const listener = sys.listenUnixSocket(sock);
    const client = sys.connectUnixSocket(sock);
    const server = sys.acceptConnection(listener);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'hello');
    const fd = fs.openSync(file, 'r');
    try {
      sys.sendFds(client, Buffer.from('/dev/pts/7'), [fd]);
      const got = sys.receiveFds(server, 4096);
      expect(got.data.toString()).toBe('/dev/pts/7');
      expect(got.fds).toHaveLength(1);
      expect(got.fds[0]).not.toBe(fd);
      expect(fs.readFileSync(got.fds[0]!, 'utf8')).toBe('hello');
      sys.close(got.fds[0]!);
    } finally {
      for (const x of [fd, client, server, listener]) sys.close(x);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the socket path when nothing listens there', () => {
    const sys = new LinuxSyscall();
    expect(() => sys.connectUnixSocket('/nonexistent/console.sock')).toThrow(/connect \/nonexistent\/console.sock: ENOENT/);
  });
});
