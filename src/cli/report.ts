/**
 * The root check and the error printer: kept apart from common.ts so the thin client
 * (fast-client.ts) does not load the host runtime to print an error.
 */
import { UserError, describeError, exitCodeFor } from '../errors.js';

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new UserError('minipod needs root to create namespaces, mounts and cgroups: run it with sudo', {
      code: 'not-root',
    });
  }
}

/** Prints an error the way the user should see it and returns the exit code. */
export function reportError(err: unknown): number {
  const { lines, internal } = describeError(err);
  for (const line of lines) process.stderr.write(`minipod: ${line}\n`);
  if (internal && process.env.MINIPOD_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  return exitCodeFor(err);
}
