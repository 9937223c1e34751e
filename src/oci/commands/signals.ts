/** Signals by name (`KILL`, `SIGKILL`, `sigkill`) or number, as runc's kill takes them. */
import os from 'node:os';
import { UserError } from '../../errors.js';

export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw new UserError(`unknown signal "${text}"`);
    return n;
  }
  const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
  const n = (os.constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new UserError(`unknown signal "${text}"`);
  return n;
}
