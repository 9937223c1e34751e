/**
 * Which host ids a `hostUsers: false` pod gets: pure rules, no I/O (allocator.ts does the
 * locking and the file).
 *
 * Every pod gets 65536 ids (uid and gid alike, Kubernetes' size: every id a container image
 * can name). The ranges are slots of 65536 starting at 2^30 (1073741824), and stop below 2^31
 * so no id ever reads as negative to a program that keeps uids in a signed int. That is 16384
 * slots, far from where useradd puts real users' subordinate ids (/etc/subuid starts at 100000
 * and grows by 65536 per user) and from the host's own users; a slot that overlaps any
 * /etc/subuid or /etc/subgid entry is skipped anyway. Kubernetes allocates the same way
 * (multiples of 65536, from the kubelet's range); podman's `--userns=auto` takes its ranges
 * from the `containers` entry of /etc/subuid.
 */

export const IDS_PER_POD = 65536;
export const FIRST_SLOT = 16384; // 16384 * 65536 = 2^30
export const SLOT_COUNT = 16384; // up to 2^31 - 1

export interface IdRange {
  /** First host id; container id N is host id base + N. */
  base: number;
  size: number;
}

export function rangeOfSlot(slot: number): IdRange {
  return { base: (FIRST_SLOT + slot) * IDS_PER_POD, size: IDS_PER_POD };
}

/** `name:start:count` lines of /etc/subuid or /etc/subgid; bad lines are skipped. */
export function parseSubordinateIds(text: string): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(':');
    if (parts.length !== 3 || line.trim().startsWith('#')) continue;
    const base = Number(parts[1]);
    const size = Number(parts[2]);
    if (Number.isSafeInteger(base) && Number.isSafeInteger(size) && size > 0) out.push({ base, size });
  }
  return out;
}

function overlaps(a: IdRange, b: IdRange): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/**
 * The lowest free slot: not in `used` and not overlapping a reserved range. Lowest first so a
 * freed range is the next one handed out (the tests rely on seeing reuse).
 */
export function pickSlot(used: ReadonlySet<number>, reserved: readonly IdRange[]): number | undefined {
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    if (used.has(slot)) continue;
    const range = rangeOfSlot(slot);
    if (reserved.some((r) => overlaps(r, range))) continue;
    return slot;
  }
  return undefined;
}

/** The uid_map / gid_map text: container 0..size-1 -> host base..base+size-1. */
export function idMapText(range: IdRange): string {
  return `0 ${range.base} ${range.size}\n`;
}
