/**
 * Turning a tar entry's name into a path confined to the unpack root.
 *
 * Tar names are untrusted: `/etc/passwd`, `../../x`, `a/../../b`, `./a//b/`. We treat every
 * name as relative to the root (leading `/` stripped, as GNU tar does by default), resolve `.`
 * and `..` lexically, and refuse a name whose `..` climbs above the root instead of clamping it,
 * because a tarball that does this is broken or hostile and silently moving its files elsewhere
 * would hide that. Symlinks are never consulted here: the caller walks the components with lstat.
 */
import { UserError } from '../../errors.js';

/** Linux PATH_MAX and NAME_MAX, in bytes. */
export const DEFAULT_MAX_PATH_BYTES = 4096;
export const NAME_MAX_BYTES = 255;

/**
 * Returns the name's components (no empty, `.` or `..` components). An empty array means the
 * root itself (`./` entries in `docker export` output carry the root directory's mode).
 */
export function confineName(name: string, maxPathBytes = DEFAULT_MAX_PATH_BYTES, what = 'entry'): string[] {
  if (name.includes('\0')) throw badName(what, name, 'contains a NUL byte');
  if (Buffer.byteLength(name) > maxPathBytes) {
    throw badName(what, name.slice(0, 80) + '...', `is longer than ${maxPathBytes} bytes`);
  }
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw badName(what, name, 'escapes the image root with ".."');
      out.pop();
      continue;
    }
    if (Buffer.byteLength(part) > NAME_MAX_BYTES) {
      throw badName(what, name, `has a component longer than ${NAME_MAX_BYTES} bytes`);
    }
    out.push(part);
  }
  return out;
}

function badName(what: string, name: string, why: string): UserError {
  return new UserError(`tar ${what} ${JSON.stringify(name)} ${why}`, { code: 'image.hostile-tar' });
}
