/**
 * The `exec -t` relay on a real pty (no root needed): the last output of a process must reach
 * our stdout even when the event loop stalls past the drain timeout after the exit, as it does
 * on a loaded host.
 */
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { relayTerminal } from '../../../src/exec/relay.js';
import { openPty } from '../../../src/process/pty.js';

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // A stalled event loop: the drain timer expires before any poll for the pty.
  }
}

describe('relayTerminal', () => {
  it('keeps the output still in the pty when the loop stalls past the drain timeout', async () => {
    const pty = openPty();
    try {
      // A background job would keep the slave open: the master never reports EIO, the timer decides.
      fs.writeSync(pty.slave, 'TERM=xterm\n');
      const output = new PassThrough();
      let text = '';
      output.on('data', (d: Buffer) => (text += d.toString()));
      const done = relayTerminal({
        master: pty.master,
        output: output as unknown as NodeJS.WriteStream,
        exited: Promise.resolve(4),
        drainMs: 1,
      });
      busyWait(30);
      expect(await done).toBe(4);
      await new Promise((r) => setImmediate(r));
      expect(text).toMatch(/TERM=xterm\r?\n/);
    } finally {
      fs.closeSync(pty.slave);
    }
  });
});
