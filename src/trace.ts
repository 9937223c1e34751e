/**
 * Step timings of the pod start path, printed to stderr when MINIPOD_TRACE=1, so the
 * benchmark can say where the time goes (manifest, images, cgroups, helpers, network, exec)
 * without a profiler. Times are ms since the process started.
 */
const enabled = process.env.MINIPOD_TRACE === '1';

export function trace(step: string): void {
  if (enabled) process.stderr.write(`minipod-trace: ${performance.now().toFixed(2)}ms ${step}\n`);
}

/** A step that happened elsewhere (the daemon), at `ms` on this process's clock. */
export function traceAt(ms: number, step: string): void {
  if (enabled) process.stderr.write(`minipod-trace: ${ms.toFixed(2)}ms ${step}\n`);
}

export function tracing(): boolean {
  return enabled;
}
