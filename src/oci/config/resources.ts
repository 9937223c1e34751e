/**
 * config.json `linux.resources` -> cgroup file writes, for cgroup v1 (one hierarchy per
 * controller) and v2 (one tree), with runc's conversions (fs/ and fs2/ in libcontainer/cgroups):
 * v2 memory.swap.max is the OCI swap (memory+swap) minus the limit, cpu.weight comes from
 * shares, blkio weights map to io.bfq.weight/io.weight. A resource the host has no controller
 * for fails at create with the field's name (the executor checks the file exists).
 */
import { sharesToWeightLinear } from '../../cgroups/index.js';
import { checkInt, checkString, checkUint, configError, isObject, unsupported } from './errors.js';

export interface CgroupSetting {
  /** v1 hierarchy name (`memory`, `cpu`, `devices`...) or `unified` for v2. */
  controller: string;
  file: string;
  value: string;
  /** The config.json field it comes from, for the error when the host cannot take it. */
  field: string;
}

type Version = 'v1' | 'v2';

function deviceRule(field: string, r: unknown): { allow: boolean; line: string } {
  if (!isObject(r)) throw configError(field, 'is not an object');
  if (typeof r.allow !== 'boolean') throw configError(`${field}.allow`, 'is required (a boolean)');
  const type = r.type === undefined ? 'a' : checkString(`${field}.type`, r.type);
  if (!['a', 'b', 'c'].includes(type)) throw configError(`${field}.type`, `"${type}" is not a, b or c`);
  const num = (v: unknown, f: string): string => (v === undefined || v === null || v === -1 ? '*' : String(checkUint(f, v)));
  const access = r.access === undefined ? 'rwm' : checkString(`${field}.access`, r.access);
  if (!/^[rwm]{1,3}$/.test(access)) throw configError(`${field}.access`, `"${access}" is not a combination of r, w, m`);
  const line = type === 'a' ? 'a' : `${type} ${num(r.major, `${field}.major`)}:${num(r.minor, `${field}.minor`)} ${access}`;
  return { allow: r.allow, line: type === 'a' && access !== 'rwm' ? `a *:* ${access}` : line };
}

function throttle(field: string, list: unknown): { dev: string; rate: number }[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw configError(field, 'is not a list');
  return list.map((d: unknown, i) => {
    if (!isObject(d)) throw configError(`${field}[${i}]`, 'is not an object');
    return {
      dev: `${checkUint(`${field}[${i}].major`, d.major)}:${checkUint(`${field}[${i}].minor`, d.minor)}`,
      rate: checkUint(`${field}[${i}].rate`, d.rate, Number.MAX_SAFE_INTEGER),
    };
  });
}

/** runc's libcontainer/specconv AllowedDevices, with the default nodes every container gets. */
export const DEFAULT_ALLOWED_DEVICES = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm',
  'c 1:8 rwm',
  'c 1:7 rwm',
  'c 5:0 rwm',
  'c 1:5 rwm',
  'c 1:9 rwm',
  'c 5:1 rwm',
  'c 136:* rwm',
  'c 5:2 rwm',
  'c 10:200 rwm',
];

const PAGE_SIZE = /^(\d+)(KB|MB|GB)$/;

/**
 * Writes for v1 or v2, in the order the kernel accepts them (limits before swap); `warnings`
 * gets a line per field accepted but not enforced.
 */
export function resourceWrites(raw: unknown, version: Version, warnings: string[] = []): CgroupSetting[] {
  if (raw === undefined || raw === null) return [];
  if (!isObject(raw)) throw configError('linux.resources', 'is not an object');
  const out: CgroupSetting[] = [];
  const add = (controller: string, file: string, value: string | number, field: string): void => {
    out.push({ controller: version === 'v2' ? 'unified' : controller, file, value: String(value), field });
  };
  for (const key of ['network', 'rdma']) {
    if (raw[key] !== undefined && raw[key] !== null) throw unsupported(`linux.resources.${key}`);
  }

  if (raw.memory !== undefined && raw.memory !== null) {
    const m = raw.memory;
    if (!isObject(m)) throw configError('linux.resources.memory', 'is not an object');
    const f = (k: string): string => `linux.resources.memory.${k}`;
    for (const k of ['kernel', 'kernelTCP'])
      if (m[k] !== undefined && m[k] !== null)
        throw unsupported(f(k), 'kernel memory limits are deprecated and not supported by minipod-oci');
    const limit = m.limit === undefined || m.limit === null ? undefined : checkInt(f('limit'), m.limit);
    const swap = m.swap === undefined || m.swap === null ? undefined : checkInt(f('swap'), m.swap);
    if (limit !== undefined && swap !== undefined && swap > 0 && swap < limit) {
      throw configError(f('swap'), `${swap} is below memory.limit ${limit} (swap is memory plus swap)`);
    }
    if (version === 'v1') {
      if (limit !== undefined) add('memory', 'memory.limit_in_bytes', limit, f('limit'));
      if (swap !== undefined) add('memory', 'memory.memsw.limit_in_bytes', swap, f('swap'));
      if (m.reservation !== undefined && m.reservation !== null)
        add('memory', 'memory.soft_limit_in_bytes', checkInt(f('reservation'), m.reservation), f('reservation'));
      if (m.swappiness !== undefined && m.swappiness !== null)
        add('memory', 'memory.swappiness', checkUint(f('swappiness'), m.swappiness, 100), f('swappiness'));
      if (m.disableOOMKiller === true) add('memory', 'memory.oom_control', 1, f('disableOOMKiller'));
    } else {
      if (limit !== undefined) add('memory', 'memory.max', limit === -1 ? 'max' : limit, f('limit'));
      if (swap !== undefined) {
        if (swap === -1) add('memory', 'memory.swap.max', 'max', f('swap'));
        else if (limit === undefined || limit === -1)
          throw configError(f('swap'), 'on cgroup v2 needs memory.limit too (swap is memory plus swap)');
        else add('memory', 'memory.swap.max', swap - limit, f('swap'));
      }
      if (m.reservation !== undefined && m.reservation !== null)
        add('memory', 'memory.low', checkInt(f('reservation'), m.reservation), f('reservation'));
      if (m.swappiness !== undefined && m.swappiness !== null) throw unsupported(f('swappiness'), 'has no cgroup v2 file');
      if (m.disableOOMKiller === true) throw unsupported(f('disableOOMKiller'), 'has no cgroup v2 file');
    }
  }

  if (raw.cpu !== undefined && raw.cpu !== null) {
    const c = raw.cpu;
    if (!isObject(c)) throw configError('linux.resources.cpu', 'is not an object');
    const f = (k: string): string => `linux.resources.cpu.${k}`;
    for (const k of ['realtimeRuntime', 'realtimePeriod', 'idle', 'burst'])
      if (c[k] !== undefined && c[k] !== null) throw unsupported(f(k));
    const shares = c.shares === undefined || c.shares === null ? undefined : checkUint(f('shares'), c.shares);
    const quota = c.quota === undefined || c.quota === null ? undefined : checkInt(f('quota'), c.quota);
    const period = c.period === undefined || c.period === null ? undefined : checkUint(f('period'), c.period);
    if (version === 'v1') {
      if (shares !== undefined && shares !== 0) add('cpu', 'cpu.shares', shares, f('shares'));
      if (period !== undefined && period !== 0) add('cpu', 'cpu.cfs_period_us', period, f('period'));
      if (quota !== undefined && quota !== 0) add('cpu', 'cpu.cfs_quota_us', quota, f('quota'));
    } else {
      if (shares !== undefined && shares !== 0) add('cpu', 'cpu.weight', sharesToWeightLinear(shares), f('shares'));
      if ((quota !== undefined && quota !== 0) || (period !== undefined && period !== 0)) {
        add(
          'cpu',
          'cpu.max',
          `${quota === undefined || quota <= 0 ? 'max' : quota} ${period || 100000}`,
          f(quota !== undefined ? 'quota' : 'period'),
        );
      }
    }
    if (c.cpus !== undefined && c.cpus !== '') add('cpuset', 'cpuset.cpus', checkString(f('cpus'), c.cpus), f('cpus'));
    if (c.mems !== undefined && c.mems !== '') add('cpuset', 'cpuset.mems', checkString(f('mems'), c.mems), f('mems'));
  }

  if (raw.pids !== undefined && raw.pids !== null) {
    if (!isObject(raw.pids)) throw configError('linux.resources.pids', 'is not an object');
    const limit = checkInt('linux.resources.pids.limit', raw.pids.limit);
    if (limit !== 0) add('pids', 'pids.max', limit <= -1 ? 'max' : limit, 'linux.resources.pids.limit');
  }

  if (raw.blockIO !== undefined && raw.blockIO !== null) {
    const b = raw.blockIO;
    if (!isObject(b)) throw configError('linux.resources.blockIO', 'is not an object');
    const f = (k: string): string => `linux.resources.blockIO.${k}`;
    if (b.leafWeight !== undefined && b.leafWeight !== null) throw unsupported(f('leafWeight'));
    if (b.weightDevice !== undefined && b.weightDevice !== null && (b.weightDevice as unknown[]).length > 0)
      throw unsupported(f('weightDevice'));
    if (b.weight !== undefined && b.weight !== null && b.weight !== 0) {
      const w = checkUint(f('weight'), b.weight, 1000);
      if (w < 10) throw configError(f('weight'), `${w} is outside 10..1000`);
      if (version === 'v1') add('blkio', 'blkio.weight', w, f('weight'));
      else add('io', 'io.weight', `default ${1 + Math.round(((w - 10) * 9999) / 990)}`, f('weight'));
    }
    const lists: [string, string, string][] = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
    ];
    for (const [key, v1File, v2Key] of lists) {
      for (const t of throttle(f(key), b[key])) {
        if (version === 'v1') add('blkio', v1File, `${t.dev} ${t.rate}`, f(key));
        else add('io', 'io.max', `${t.dev} ${v2Key}=${t.rate}`, f(key));
      }
    }
  }

  if (raw.hugepageLimits !== undefined && raw.hugepageLimits !== null) {
    if (!Array.isArray(raw.hugepageLimits)) throw configError('linux.resources.hugepageLimits', 'is not a list');
    raw.hugepageLimits.forEach((h: unknown, i) => {
      const at = `linux.resources.hugepageLimits[${i}]`;
      if (!isObject(h)) throw configError(at, 'is not an object');
      const size = checkString(`${at}.pageSize`, h.pageSize);
      if (!PAGE_SIZE.test(size)) throw configError(`${at}.pageSize`, `"${size}" is not a page size like 2MB`);
      const limit = checkUint(`${at}.limit`, h.limit, Number.MAX_SAFE_INTEGER);
      add('hugetlb', `hugetlb.${size}.${version === 'v1' ? 'limit_in_bytes' : 'max'}`, limit, `${at}.limit`);
    });
  }

  if (raw.devices !== undefined && raw.devices !== null) {
    if (!Array.isArray(raw.devices)) throw configError('linux.resources.devices', 'is not a list');
    const rules = raw.devices.map((r: unknown, i) => deviceRule(`linux.resources.devices[${i}]`, r));
    if (version === 'v2') {
      // cgroup v2 has no devices files: runc loads an eBPF program, which minipod-oci does not.
      // podman and containerd send a deny-all: accepted with a warning (the container keeps only
      // the nodes the config lists, but mknod with CAP_MKNOD is not stopped); allow rules refused.
      if (rules.some((r) => r.allow)) {
        throw unsupported('linux.resources.devices', 'allow rules need a cgroup v2 eBPF program, which minipod-oci does not load');
      }
      if (rules.length > 0)
        warnings.push(
          'linux.resources.devices: not enforced on cgroup v2 (no eBPF device filter); drop CAP_MKNOD to keep new device nodes out',
        );
    } else {
      for (const r of rules) add('devices', r.allow ? 'devices.allow' : 'devices.deny', r.line, 'linux.resources.devices');
      // runc's AllowedDevices: what every container may use whatever the rules said before.
      for (const line of DEFAULT_ALLOWED_DEVICES) add('devices', 'devices.allow', line, 'linux.resources.devices');
    }
  }

  if (raw.unified !== undefined && raw.unified !== null) {
    if (!isObject(raw.unified)) throw configError('linux.resources.unified', 'is not an object');
    if (version === 'v1') {
      if (Object.keys(raw.unified).length > 0) throw unsupported('linux.resources.unified', 'needs a cgroup v2 host');
    } else {
      for (const [file, value] of Object.entries(raw.unified)) {
        if (file.includes('/') || file.startsWith('.')) throw configError(`linux.resources.unified.${file}`, 'is not a cgroup file name');
        add(file.split('.')[0]!, file, checkString(`linux.resources.unified.${file}`, value), `linux.resources.unified.${file}`);
      }
    }
  }
  return out;
}
