/** Number formatting shared by explain's renderers (pure). */

/** Binary units, as the manifest writes memory (`64Mi` -> `64 MiB`); at most one decimal. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 || Number.isInteger(v) ? String(v) : v.toFixed(1);
  return `${text} ${units[i]}`;
}

/** null (the kernel's "max") reads as unlimited. */
export function formatLimit(v: number | null | undefined, f: (n: number) => string): string {
  if (v === undefined) return '?';
  return v === null ? 'unlimited' : f(v);
}

/** A CFS quota over its period, and what it means in CPUs. */
export function formatCpuQuota(quotaUs: number | null | undefined, periodUs: number | undefined): string {
  if (quotaUs === undefined) return '?';
  if (quotaUs === null) return 'unlimited';
  const period = periodUs ?? 100_000;
  const cpus = quotaUs / period;
  return `${quotaUs}/${period} µs (${Number(cpus.toFixed(3))} CPU)`;
}

/** Short CPU text for pictures: `0.25 CPU`. */
export function formatCpus(quotaUs: number | null | undefined, periodUs: number | undefined): string {
  if (quotaUs === undefined) return '?';
  if (quotaUs === null) return 'no CPU limit';
  return `${Number((quotaUs / (periodUs ?? 100_000)).toFixed(3))} CPU`;
}

/** A process's command line for one line of text, at most `max` characters. */
export function shortCommand(cmdline: string[], comm: string, max = 60): string {
  const text = (cmdline.length > 0 ? cmdline.join(' ') : `[${comm}]`).replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
