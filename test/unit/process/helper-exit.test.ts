import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { helperExit, type Helper } from '../../../src/process/helper-client.js';

function helperOf(child: ReturnType<typeof spawn>): Helper {
  return {
    child,
    pid: child.pid!,
    control: null as unknown as Socket,
    booted: Promise.resolve(false),
    isBooted: false,
    closed: Promise.resolve(undefined),
    stdout: null,
    stderr: null,
  };
}

describe('helperExit', () => {
  it('reports a helper that was killed before anyone waited for it (kill -9 mid-start)', async () => {
    const child = spawn('sleep', ['10'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await expect(helperExit(helperOf(child), 10)).resolves.toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('waits for a helper that is still running', async () => {
    const child = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    await expect(helperExit(helperOf(child), 10)).resolves.toEqual({ code: 3, signal: null });
  });
});
