/** A process's exit as shells, kubelet and podman report it: its code, or 128+N for signal N. */
import os from 'node:os';

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
}
