/** POSIX ACL encoding and the search grants for a pod's root (pure parts; no root needed). */
import { describe, expect, it } from 'vitest';
import { aclFromMode, aclGranting, aclRevoking, decodeAcl, encodeAcl, modeOfAcl, unsearchableDirs } from '../../../src/userns/acl.js';

const UID = 1073741824;

describe('POSIX ACLs', () => {
  it('round-trips the xattr format, sorted by tag then id', () => {
    const entries = [
      { tag: 0x20, perm: 0, id: 0xffffffff },
      { tag: 0x02, perm: 1, id: 7 },
      { tag: 0x01, perm: 7, id: 0xffffffff },
    ];
    const buf = encodeAcl(entries);
    expect(buf.readUInt32LE(0)).toBe(2);
    expect(buf.length).toBe(4 + 3 * 8);
    expect(decodeAcl(buf).map((e) => e.tag)).toEqual([0x01, 0x02, 0x20]);
    expect(() => decodeAcl(Buffer.from([1, 0, 0, 0]))).toThrow(/format/);
  });

  it('grants search to one uid on a 0700 dir and nothing to the group or others', () => {
    const granted = aclGranting(aclFromMode(0o700), UID);
    expect(granted).toContainEqual({ tag: 0x02, perm: 1, id: UID });
    expect(granted).toContainEqual({ tag: 0x10, perm: 1, id: 0xffffffff }); // mask: --x
    expect(granted).toContainEqual({ tag: 0x04, perm: 0, id: 0xffffffff }); // group owner keeps ---
    expect(granted).toContainEqual({ tag: 0x20, perm: 0, id: 0xffffffff }); // others keep ---
    expect(aclGranting(granted, UID)).toBe(granted); // once
  });

  it('revokes one uid, keeps the others, and goes back to the plain mode when none is left', () => {
    const two = aclGranting(aclGranting(aclFromMode(0o750), UID), UID + 65536);
    const one = aclRevoking(two, UID)!;
    expect(one.some((e) => e.tag === 0x02 && e.id === UID)).toBe(false);
    expect(one).toContainEqual({ tag: 0x02, perm: 1, id: UID + 65536 });
    expect(aclRevoking(one, UID + 65536)).toBeUndefined();
    expect(modeOfAcl(one)).toBe(0o750);
  });

  it('finds the dirs on the way that others cannot search', () => {
    const modes: Record<string, number> = {
      '/': 0o755,
      '/run': 0o755,
      '/run/minipod': 0o700,
      '/run/minipod/pods': 0o700,
      '/run/minipod/pods/p': 0o700,
      '/tmp': 0o1777,
    };
    expect(unsearchableDirs(['/run/minipod/pods/p', '/tmp'], (p) => modes[p]!)).toEqual([
      '/run/minipod',
      '/run/minipod/pods',
      '/run/minipod/pods/p',
    ]);
  });
});
