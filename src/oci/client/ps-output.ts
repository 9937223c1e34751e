/**
 * `ps` (runc's ps.go): `--format json` prints the pids of the container's cgroup as a JSON
 * array (what containerd's shim reads); the table runs the host's `ps` (default `-ef`, or the
 * options after the id) and keeps the header and the lines whose PID column is one of them.
 */
import { UserError } from '../../errors.js';

export type PsFormat = 'table' | 'json';

export function parsePsFormat(value: string | undefined): PsFormat {
  const format = value ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UserError(`invalid format option: ${format} (table or json)`);
  return format;
}

/** The JSON array runc prints: `[]` when the cgroup is empty (never `null`). */
export function psJson(pids: readonly number[]): string {
  return `${JSON.stringify([...pids])}\n`;
}

/** Index of the `PID` column in ps's header line (runc's getPidIndex). */
export function pidColumn(header: string): number {
  const index = header.trim().split(/\s+/).indexOf('PID');
  if (index < 0) throw new UserError("couldn't find PID field in ps output");
  return index;
}

/** ps's output cut to the header and the container's processes, as runc prints it. */
export function filterPsTable(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const column = pidColumn(header);
  const wanted = new Set(pids);
  const kept = lines.slice(1).filter((line) => {
    if (line.trim() === '') return false;
    const field = line.trim().split(/\s+/)[column];
    return field !== undefined && wanted.has(Number(field));
  });
  return [header, ...kept].map((l) => `${l}\n`).join('');
}
