/**
 * An image's StopSignal (`SIGQUIT`, `QUIT`, `3`) as the signal the supervisor sends on stop.
 * Anything Node cannot name (SIGRTMIN+3, garbage from an untrusted config) falls back to
 * SIGTERM, the default, rather than failing the stop.
 */
import os from 'node:os';

export function imageStopSignal(value: string | undefined): NodeJS.Signals {
  if (!value) return 'SIGTERM';
  const signals = os.constants.signals as Record<string, number>;
  const v = value.trim().toUpperCase();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    const name = Object.keys(signals).find((k) => signals[k] === n);
    return (name as NodeJS.Signals | undefined) ?? 'SIGTERM';
  }
  const name = v.startsWith('SIG') ? v : `SIG${v}`;
  return name in signals ? (name as NodeJS.Signals) : 'SIGTERM';
}
