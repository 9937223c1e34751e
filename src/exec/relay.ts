/**
 * The caller's side of `exec -t`: our terminal in raw mode, bytes both ways between it and the
 * pty master, window size changes passed on. In raw mode Ctrl-C is just a byte: the pty's line
 * discipline in the container turns it into SIGINT for the container's foreground job.
 */
import fs from 'node:fs';
import tty from 'node:tty';
import { setWindowSize, type WindowSize } from '../process/pty.js';

export interface TerminalRelayOptions {
  master: number;
  /** Our stdin, relayed when given (exec -i). */
  input?: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  /** The exec'd process's exit status. */
  exited: Promise<number>;
  /** How long to wait for the last output after the process exits (a background job may hold the pty). */
  drainMs?: number;
}

/** End-of-file for a canonical-mode reader: what a closed, piped stdin means to a shell on a pty. */
const EOT = Buffer.from([4]);

export function terminalSize(stream: NodeJS.WriteStream | NodeJS.ReadStream | undefined): WindowSize | undefined {
  const s = stream as tty.WriteStream | undefined;
  if (!s?.isTTY || typeof s.getWindowSize !== 'function') return undefined;
  const [cols, rows] = s.getWindowSize();
  return cols > 0 && rows > 0 ? { rows, cols } : undefined;
}

/**
 * Writes to a non-blocking master without blocking the event loop: when the pty's input
 * buffer is full (the program is not reading), the rest waits and is retried, while output
 * keeps flowing the other way.
 */
class MasterWriter {
  private queue: Buffer[] = [];
  private timer?: NodeJS.Timeout;
  private closed = false;
  constructor(private readonly fd: number) {}

  write(data: Buffer): void {
    if (this.closed) return;
    this.queue.push(data);
    if (!this.timer) this.flush();
  }

  private flush(): void {
    this.timer = undefined;
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0]!;
      let n: number;
      try {
        n = fs.writeSync(this.fd, head);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          this.timer = setTimeout(() => this.flush(), 10);
          return;
        }
        this.close(); // EIO: the other side is gone.
        return;
      }
      if (n < head.length) this.queue[0] = head.subarray(n);
      else this.queue.shift();
    }
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * Reads what the master holds right now, without waiting. Only while our stream still owns the
 * fd: once it is destroyed the number may already belong to another file.
 */
function drainMaster(master: number, output: NodeJS.WriteStream): void {
  const buf = Buffer.allocUnsafe(65536);
  for (let i = 0; i < 64; i++) {
    let n: number;
    try {
      n = fs.readSync(master, buf, 0, buf.length, null);
    } catch {
      return; // EAGAIN: nothing more now; EIO: every slave is closed and the buffer is empty.
    }
    if (n <= 0) return;
    output.write(Buffer.from(buf.subarray(0, n)));
  }
}

/** Relays until the process has exited and its output is drained; resolves with its exit status. */
export async function relayTerminal(o: TerminalRelayOptions): Promise<number> {
  const { input, output } = o;
  const fromMaster = new tty.ReadStream(o.master);
  const writer = new MasterWriter(o.master);
  const masterDone = new Promise<void>((resolve) => {
    // EIO is how a master reports that every slave fd is closed: the normal end.
    fromMaster.on('error', () => resolve());
    fromMaster.on('end', () => resolve());
    fromMaster.on('close', () => resolve());
  });
  fromMaster.on('data', (d: Buffer) => output.write(d));

  const rawInput = input?.isTTY ? (input as tty.ReadStream) : undefined;
  const restore = (): void => {
    if (rawInput?.isRaw) rawInput.setRawMode(false);
  };
  const onInput = (d: Buffer): void => writer.write(d);
  const onInputEnd = (): void => writer.write(EOT);
  const onResize = (): void => {
    const size = terminalSize(output);
    if (size) {
      try {
        setWindowSize(o.master, size);
      } catch {
        // The pty is gone; the exit is on its way.
      }
    }
  };
  process.once('exit', restore);
  try {
    if (rawInput) rawInput.setRawMode(true);
    if (input) {
      input.on('data', onInput);
      if (!rawInput) input.once('end', onInputEnd);
      input.resume();
    }
    output.on('resize', onResize);

    const code = await o.exited;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([masterDone, new Promise<void>((resolve) => (timer = setTimeout(resolve, o.drainMs ?? 300)))]);
    clearTimeout(timer);
    // A stalled event loop (a loaded host) can reach the timeout before the poll that would
    // have read the last output: take what the pty still holds before closing it.
    if (!fromMaster.destroyed) drainMaster(o.master, output);
    return code;
  } finally {
    output.off('resize', onResize);
    if (input) {
      input.off('data', onInput);
      input.off('end', onInputEnd);
      input.pause();
    }
    restore();
    process.off('exit', restore);
    writer.close();
    fromMaster.destroy(); // closes the master fd
  }
}
