/**
 * SCM_RIGHTS control messages (cmsg(3)) for sendmsg/recvmsg on x86_64: how a pty master is
 * handed to a console socket (runc's utils.SendFile, conmon's and containerd's receivers).
 *
 *   struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; unsigned char data[]; }
 *
 * cmsg_len = CMSG_LEN(n) = header + n bytes of data; the buffer is CMSG_SPACE(n), padded to 8.
 */
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 1;
/** sizeof(struct cmsghdr) on x86_64, already a multiple of the alignment. */
export const CMSG_HEADER_SIZE = 16;
const ALIGN = 8;

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** CMSG_LEN: what goes in cmsg_len for `dataBytes` of data. */
export function cmsgLen(dataBytes: number): number {
  return CMSG_HEADER_SIZE + dataBytes;
}

/** CMSG_SPACE: the room one message with `dataBytes` of data takes, padding included. */
export function cmsgSpace(dataBytes: number): number {
  return CMSG_HEADER_SIZE + align(dataBytes);
}

/** The control buffer of one SCM_RIGHTS message carrying `fds`. */
export function encodeRightsControl(fds: number[]): Buffer {
  if (fds.length === 0) throw new Error('SCM_RIGHTS needs at least one descriptor');
  const data = fds.length * 4;
  const buf = Buffer.alloc(cmsgSpace(data));
  buf.writeBigUInt64LE(BigInt(cmsgLen(data)), 0);
  buf.writeInt32LE(SOL_SOCKET, 8);
  buf.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((fd, i) => {
    if (!Number.isInteger(fd) || fd < 0) throw new Error(`not a file descriptor: ${fd}`);
    buf.writeInt32LE(fd, CMSG_HEADER_SIZE + 4 * i);
  });
  return buf;
}

/**
 * The descriptors of every SCM_RIGHTS message in the first `length` bytes of a control buffer
 * that recvmsg filled (msg_controllen); other messages are skipped.
 */
export function decodeRightsControl(buf: Buffer, length = buf.length): number[] {
  const fds: number[] = [];
  let off = 0;
  while (off + CMSG_HEADER_SIZE <= length) {
    const len = Number(buf.readBigUInt64LE(off));
    if (len < CMSG_HEADER_SIZE || off + len > length) break;
    const level = buf.readInt32LE(off + 8);
    const type = buf.readInt32LE(off + 12);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let p = off + CMSG_HEADER_SIZE; p + 4 <= off + len; p += 4) fds.push(buf.readInt32LE(p));
    }
    off += align(len);
  }
  return fds;
}
