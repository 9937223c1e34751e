import { describe, expect, it } from 'vitest';
import {
  classifyMounts,
  decodeCapabilities,
  parseIdMap,
  parseMountinfo,
  parseNamespaceLink,
  parseOverlayOptions,
  parseProcCgroup,
  parseStat,
  parseStatus,
  seccompMode,
} from '../../../src/explain/proc-parse.js';
import { hasDnat, listeningTcpPorts, parseIpAddr } from '../../../src/explain/read-network.js';

describe('explain: /proc parsers', () => {
  it('reads stat fields after a comm with spaces and parentheses', () => {
    const stat = '4242 (my (odd) prog) S 17 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100 18446744073709551615';
    expect(parseStat(stat)).toEqual({ comm: 'my (odd) prog', state: 'S', ppid: 17, startTime: 987654 });
  });

  it('reads status: ids, capabilities, seccomp and no_new_privs', () => {
    const status = parseStatus(
      'Name:\tnginx\nUid:\t0\t0\t0\t0\nNSpid:\t6110\t23\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n',
    );
    expect(status.get('NSpid')).toBe('6110\t23');
    expect(status.get('CapEff')).toBe('00000000a80425fb');
    expect(seccompMode(status.get('Seccomp'))).toBe('filter');
    expect(seccompMode('0')).toBe('disabled');
    expect(seccompMode('1')).toBe('strict');
  });

  it("decodes podman/runc's default capability set to the 14 names", () => {
    const caps = decodeCapabilities('00000000a80425fb');
    expect(caps).toEqual([
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_FSETID',
      'CAP_KILL',
      'CAP_SETGID',
      'CAP_SETUID',
      'CAP_SETPCAP',
      'CAP_NET_BIND_SERVICE',
      'CAP_NET_RAW',
      'CAP_SYS_CHROOT',
      'CAP_MKNOD',
      'CAP_AUDIT_WRITE',
      'CAP_SETFCAP',
    ]);
    expect(decodeCapabilities('0000000000000000')).toEqual([]);
    // A bit the table does not name yet still shows.
    expect(decodeCapabilities('0000080000000000')).toEqual(['CAP_43']);
  });

  it('reads uid_map lines and namespace links', () => {
    expect(parseIdMap('         0     100000      65536\n      65536 2 1\n')).toEqual([
      { inside: 0, outside: 100000, count: 65536 },
      { inside: 65536, outside: 2, count: 1 },
    ]);
    expect(parseNamespaceLink('net:[4026532326]')).toBe(4026532326);
    expect(parseNamespaceLink('garbage')).toBeUndefined();
  });

  it('reads /proc/PID/cgroup of hybrid and unified hosts', () => {
    expect(parseProcCgroup('4:memory:/minipod/blog/web\n9:name=systemd:/x\n2:cpu,cpuacct:/y\n0::/minipod/blog/web\n')).toEqual([
      { hierarchyId: 4, controllers: ['memory'], path: '/minipod/blog/web' },
      { hierarchyId: 9, controllers: ['name=systemd'], path: '/x' },
      { hierarchyId: 2, controllers: ['cpu', 'cpuacct'], path: '/y' },
      { hierarchyId: 0, controllers: [], path: '/minipod/blog/web' },
    ]);
  });

  it('reads mountinfo with optional fields and escapes, and tells what each mount is', () => {
    const text = [
      '108 84 0:49 / / rw,nodev,relatime shared:5 - overlay overlay rw,lowerdir=/img/a\\:b:/img/c,upperdir=/c/upper,workdir=/c/work',
      '109 108 0:51 / /proc rw,nosuid - proc proc rw',
      '134 109 0:52 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k',
      '137 109 0:51 /bus /proc/bus ro,nosuid - proc proc rw',
      '136 114 0:60 / /sys/firmware ro,relatime - tmpfs tmpfs ro,size=0k',
      '49 108 254:0 /vols/my\\040dir /data ro,relatime - ext4 /dev/vda rw',
    ].join('\n');
    const lines = parseMountinfo(text);
    expect(lines[5]).toMatchObject({ root: '/vols/my dir', mountPoint: '/data', fsType: 'ext4', source: '/dev/vda' });
    expect(classifyMounts(lines).map((m) => [m.mountPoint, m.role, m.readOnly])).toEqual([
      ['/', 'rootfs', false],
      ['/proc', 'system', false],
      ['/proc/keys', 'masked', false],
      ['/proc/bus', 'masked', true],
      ['/sys/firmware', 'masked', true],
      ['/data', 'bind', true],
    ]);
    expect(parseOverlayOptions(lines[0]!.superOptions)).toEqual({
      lowerDirs: ['/img/a:b', '/img/c'],
      upperDir: '/c/upper',
      workDir: '/c/work',
    });
  });
});

describe('explain: network parsers', () => {
  it('reads ip -j addr: addresses, veth peer index, bridge master', () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      {
        ifindex: 2,
        ifname: 'eth0',
        link_index: 60,
        address: 'aa:bb',
        linkinfo: { info_kind: 'veth' },
        addr_info: [
          { family: 'inet', local: '10.89.0.2', prefixlen: 24 },
          { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
        ],
      },
      { ifindex: 60, ifname: 'veth1', master: 'minipod0', linkinfo: { info_kind: 'veth' } },
    ]);
    expect(parseIpAddr(json)).toEqual([
      { name: 'eth0', ifindex: 2, mac: 'aa:bb', addresses: ['10.89.0.2/24', 'fe80::1/64'], linkIndex: 60, kind: 'veth' },
      { name: 'veth1', ifindex: 60, addresses: [], kind: 'veth', master: 'minipod0' },
    ]);
  });

  it("finds portmap's DNAT rule for a port and no other", () => {
    const nat = '-A CNI-DN-1234 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.89.0.2:80\n';
    expect(hasDnat(nat, 8080, '10.89.0.2', 80, 'TCP')).toBe(true);
    expect(hasDnat(nat, 8080, '10.89.0.2', 8, 'TCP')).toBe(false);
    expect(hasDnat(nat, 8080, '10.89.0.22', 80, 'TCP')).toBe(false);
    expect(hasDnat(nat, 8080, '10.89.0.2', 80, 'UDP')).toBe(false);
    expect(hasDnat(nat, 808, '10.89.0.2', 80, 'TCP')).toBe(false);
  });

  it('reads LISTEN sockets from /proc/net/tcp', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue',
      '   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1',
      '   1: 0100007F:0940 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2',
      '   2: 0200590A:0050 0100590A:C350 01 00000000:00000000 00:00000000 00000000     0        0 3',
    ].join('\n');
    expect([...listeningTcpPorts(tcp)].sort()).toEqual([2368, 80]);
  });
});
