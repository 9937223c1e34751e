import { describe, expect, it } from 'vitest';
import { applyCredentials, resolveUser } from '../../../src/process/credentials.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:www:/var/www:/bin/false\n';
const group = 'root:x:0:\nweb:x:33:\nlogs:x:4:web,other\n';

describe('resolveUser', () => {
  it("uses the image's passwd for gid, groups and home", () => {
    expect(resolveUser({ name: 'web' }, passwd, group)).toEqual({ uid: 33, gid: 33, additionalGids: [4], home: '/var/www' });
    expect(resolveUser({ uid: 1000 }, passwd, group)).toEqual({ uid: 1000, gid: 0, additionalGids: [], home: '/' });
    expect(resolveUser({ uid: 33, gid: 7 }, passwd, group).gid).toBe(7);
  });
  it("adds the pod's supplementalGroups and fsGroup after the image's groups (Merge), or alone (Strict)", () => {
    expect(resolveUser({ name: 'web', groups: [2000, 4] }, passwd, group).additionalGids).toEqual([4, 2000]);
    expect(resolveUser({ name: 'web', groups: [2000], strictGroups: true }, passwd, group).additionalGids).toEqual([2000]);
    expect(resolveUser({ uid: 1000, groups: [5, 6] }, passwd, group).additionalGids).toEqual([5, 6]);
  });
  it('refuses a user name the image does not have', () => {
    expect(() => resolveUser({ name: 'nobody-here' }, passwd, group)).toThrow(/not in the image/);
  });
});

describe('applyCredentials', () => {
  it('drops the bounding set before changing ids, then sets caps and no_new_privs', () => {
    const sys = new RecordingSyscall();
    applyCredentials(
      sys,
      {
        args: ['x'],
        env: [],
        cwd: '/',
        user: {},
        capabilities: { bounding: [0, 5], effective: [0, 5], permitted: [0, 5], inheritable: [0, 5], ambient: [5] },
        noNewPrivileges: true,
      },
      { uid: 1000, gid: 1000, additionalGids: [4], home: '/' },
    );
    const names = sys.calls.map((c) => c.name);
    expect(names.lastIndexOf('dropBoundingCapability')).toBeLessThan(names.indexOf('setresuid'));
    expect(sys.callsOf('dropBoundingCapability')).toHaveLength(39);
    expect(names.slice(names.indexOf('setKeepCaps'))).toEqual([
      'setKeepCaps',
      'setgroups',
      'setresgid',
      'setresuid',
      'capset',
      'setKeepCaps',
      'clearAmbientCapabilities',
      'raiseAmbientCapability',
      'setNoNewPrivileges',
    ]);
  });
});
