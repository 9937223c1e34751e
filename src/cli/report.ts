/**
 * The root check and the error printer: kept apart from common.ts so the thin client
 * (fast-client.ts) does not load the host runtime to print an error.
 */
import { UserError, exitCodeFor } from '../errors.js';

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new UserError('minipod needs root to create namespaces, mounts and cgroups: run it with sudo', {
      code: 'not-root',
    });
  }
}

/** Prints an error the way the user should see it and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof UserError) {
    process.stderr.write(`minipod: ${err.message.split('\n')[0]}\n`);
  } else {
    const e = err as Error;
    process.stderr.write(`minipod: internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.MINIPOD_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  }
  return exitCodeFor(err);
}
