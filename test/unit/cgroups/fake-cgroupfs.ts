/**
 * A fake cgroupfs in a temp dir that behaves like the kernel where the managers depend on it:
 * mkdir makes the control files (v2: only for controllers the parent enabled), a write to a
 * missing file is ENOENT, subtree_control accumulates, rmdir works with control files present
 * but is EBUSY with children or tasks, kill removes the pid. Writes are logged; failures can be
 * injected per file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SyscallError } from '../../../src/errors.js';
import { CgroupWriteError, nodeCgroupFs, type CgroupFs } from '../../../src/cgroups/fs.js';

export type FakeMode = 'unified' | 'hybrid' | 'legacy';

const UNLIMITED_V1 = '9223372036854771712';
const V1_CONTROLLERS = ['cpuset', 'cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'devices', 'systemd'];

const V2_FILES: Record<string, Record<string, string>> = {
  core: {
    'cgroup.procs': '',
    'cgroup.events': 'populated 0\nfrozen 0\n',
    'cgroup.kill': '',
    'cgroup.freeze': '0\n',
    'cgroup.subtree_control': '',
  },
  memory: {
    'memory.max': 'max\n',
    'memory.min': '0\n',
    'memory.low': '0\n',
    'memory.swap.max': 'max\n',
    'memory.current': '0\n',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
    'memory.stat': 'anon 0\nfile 0\ninactive_file 0\n',
  },
  cpu: {
    'cpu.max': 'max 100000\n',
    'cpu.weight': '100\n',
    'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
};

const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': `${UNLIMITED_V1}\n`,
    'memory.memsw.limit_in_bytes': `${UNLIMITED_V1}\n`,
    'memory.soft_limit_in_bytes': `${UNLIMITED_V1}\n`,
    'memory.usage_in_bytes': '0\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.stat': 'cache 0\ntotal_inactive_file 0\n',
  },
  cpu: {
    'cpu.shares': '1024\n',
    'cpu.cfs_period_us': '100000\n',
    'cpu.cfs_quota_us': '-1\n',
    'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
  },
  cpuacct: { 'cpuacct.usage': '0\n', 'cpuacct.stat': 'user 0\nsystem 0\n' },
  cpuset: { 'cpuset.cpus': '\n', 'cpuset.mems': '\n' },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  freezer: { 'freezer.state': 'THAWED\n' },
};

function err(call: string, code: string, detail: string): SyscallError {
  const errno = (os.constants.errno as Record<string, number>)[code]!;
  return new SyscallError(call, errno, detail);
}

export interface FakeWrite {
  file: string;
  value: string;
}

export class FakeCgroupFs implements CgroupFs {
  readonly root: string;
  readonly writes: FakeWrite[] = [];
  readonly kills: { pid: number; signal: string }[] = [];
  /** Return an errno name to make that write fail. */
  failWrite?: (file: string, value: string) => string | undefined;
  /** A task that will not freeze (D state): freezer.state stays FREEZING, cgroup.events frozen 0. */
  freezeStuck = false;
  /** rmdir of a dir fails EBUSY this many more times. */
  busy = new Map<string, number>();

  constructor(
    readonly mode: FakeMode,
    opts: { memsw?: boolean; comountCpu?: boolean } = {},
  ) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-cgfake-'));
    if (mode === 'unified') {
      // The root cgroup has no cgroup.kill, cgroup.events or limits of its own.
      this.files(this.root, {
        'cgroup.procs': '',
        'cgroup.subtree_control': '',
        'cgroup.controllers': 'cpuset cpu io memory hugetlb pids\n',
      });
      return;
    }
    for (const c of V1_CONTROLLERS) {
      if (opts.comountCpu && (c === 'cpu' || c === 'cpuacct')) continue;
      fs.mkdirSync(path.join(this.root, c));
    }
    if (opts.comountCpu) {
      fs.mkdirSync(path.join(this.root, 'cpu,cpuacct'));
      fs.symlinkSync('cpu,cpuacct', path.join(this.root, 'cpu'));
      fs.symlinkSync('cpu,cpuacct', path.join(this.root, 'cpuacct'));
    }
    this.files(path.join(this.root, 'cpuset'), { 'cpuset.cpus': '0-3\n', 'cpuset.mems': '0\n', 'cgroup.procs': '' });
    this.files(path.join(this.root, 'memory'), { 'memory.limit_in_bytes': `${UNLIMITED_V1}\n`, 'cgroup.procs': '' });
    if (opts.memsw === false) this.noMemsw = true;
    if (mode === 'hybrid') {
      fs.mkdirSync(path.join(this.root, 'unified'));
      this.files(path.join(this.root, 'unified'), { 'cgroup.controllers': '\n', 'cgroup.subtree_control': '', 'cgroup.procs': '' });
    }
  }

  private noMemsw = false;

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  p(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  private files(dir: string, files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  }

  /** Which hierarchy a path is in: 'unified' for v2 (and hybrid's unified/), else the v1 controller. */
  private hierarchyOf(dir: string): string {
    if (this.mode === 'unified') return 'unified';
    const first = path.relative(this.root, dir).split(path.sep)[0]!;
    return first === 'cpu,cpuacct' ? 'cpu,cpuacct' : first;
  }

  mkdir(dir: string): void {
    try {
      fs.mkdirSync(dir);
    } catch (e) {
      throw err('mkdir', (e as NodeJS.ErrnoException).code!, dir);
    }
    const h = this.hierarchyOf(dir);
    if (h === 'unified') {
      const parentEnabled = fs.readFileSync(path.join(path.dirname(dir), 'cgroup.subtree_control'), 'utf8');
      const enabled = parentEnabled.split(/\s+/).filter(Boolean);
      this.files(dir, { ...V2_FILES.core!, 'cgroup.controllers': `${enabled.join(' ')}\n` });
      for (const c of enabled) if (V2_FILES[c]) this.files(dir, V2_FILES[c]!);
      return;
    }
    this.files(dir, { 'cgroup.procs': '', tasks: '' });
    const controllers = h === 'cpu,cpuacct' ? ['cpu', 'cpuacct'] : [h];
    for (const c of controllers) {
      const files = { ...(V1_FILES[c] ?? {}) };
      if (this.noMemsw) delete files['memory.memsw.limit_in_bytes'];
      this.files(dir, files);
    }
  }

  write(file: string, value: string): void {
    const injected = this.failWrite?.(file, value);
    if (injected) {
      const errno = (os.constants.errno as Record<string, number>)[injected]!;
      throw new CgroupWriteError(file, value, errno);
    }
    if (!fs.existsSync(file)) {
      throw new CgroupWriteError(file, value, (os.constants.errno as Record<string, number>).ENOENT!);
    }
    this.writes.push({ file, value });
    const name = path.basename(file);
    if (name === 'cgroup.subtree_control') {
      const set = new Set(fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean));
      const available = fs.readFileSync(path.join(path.dirname(file), 'cgroup.controllers'), 'utf8').split(/\s+/);
      for (const tok of value.split(/\s+/)) {
        const c = tok.slice(1);
        if (!available.includes(c)) throw new CgroupWriteError(file, value, (os.constants.errno as Record<string, number>).ENOENT!);
        if (tok.startsWith('+')) set.add(c);
        else set.delete(c);
      }
      fs.writeFileSync(file, `${[...set].join(' ')}\n`);
    } else if (name === 'cgroup.procs') {
      fs.appendFileSync(file, `${value}\n`);
    } else if (name === 'cgroup.freeze') {
      fs.writeFileSync(file, `${value}\n`);
      const events = path.join(path.dirname(file), 'cgroup.events');
      const frozen = value.trim() === '1' && !this.freezeStuck ? 1 : 0;
      fs.writeFileSync(events, fs.readFileSync(events, 'utf8').replace(/^frozen \d+$/m, `frozen ${frozen}`));
    } else if (name === 'freezer.state') {
      fs.writeFileSync(file, value === 'FROZEN' && this.freezeStuck ? 'FREEZING\n' : `${value}\n`);
    } else if (name === 'cgroup.kill') {
      // Kills the whole subtree.
      for (const f of this.procsBelow(path.dirname(file))) fs.writeFileSync(f, '');
    } else {
      fs.writeFileSync(file, value);
    }
  }

  private procsBelow(dir: string): string[] {
    const out = [path.join(dir, 'cgroup.procs')];
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory()) out.push(...this.procsBelow(path.join(dir, d.name)));
    }
    return out;
  }

  read(file: string): string {
    return nodeCgroupFs.read(file);
  }

  exists(p: string): boolean {
    return fs.existsSync(p);
  }

  realpath(p: string): string {
    return fs.realpathSync(p);
  }

  rmdir(dir: string): void {
    const left = this.busy.get(dir) ?? 0;
    if (left > 0) {
      this.busy.set(dir, left - 1);
      throw err('rmdir', 'EBUSY', dir);
    }
    if (!fs.existsSync(dir)) throw err('rmdir', 'ENOENT', dir);
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isDirectory())) throw err('rmdir', 'EBUSY', dir);
    const procs = path.join(dir, 'cgroup.procs');
    if (fs.existsSync(procs) && fs.readFileSync(procs, 'utf8').trim() !== '') throw err('rmdir', 'EBUSY', dir);
    fs.rmSync(dir, { recursive: true });
  }

  subdirs(dir: string): string[] {
    return nodeCgroupFs.subdirs(dir);
  }

  kill(pid: number, signal: NodeJS.Signals): void {
    this.kills.push({ pid, signal });
    const walk = (dir: string): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) walk(p);
        else if (d.name === 'cgroup.procs') {
          const rest = fs
            .readFileSync(p, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '' && l.trim() !== String(pid));
          fs.writeFileSync(p, rest.map((l) => `${l}\n`).join(''));
        }
      }
    };
    if (signal === 'SIGKILL') walk(this.root);
  }

  /** Puts a pid into a cgroup's procs file without going through the manager. */
  seedPid(dir: string, pid: number): void {
    fs.appendFileSync(path.join(dir, 'cgroup.procs'), `${pid}\n`);
  }

  setFile(file: string, content: string): void {
    fs.writeFileSync(file, content);
  }

  /** Every directory below the root, relative, sorted (to assert what is left). */
  dirs(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!d.isDirectory()) continue;
        const p = path.join(dir, d.name);
        out.push(path.relative(this.root, p));
        walk(p);
      }
    };
    walk(this.root);
    return out.sort();
  }

  writesTo(suffix: string): string[] {
    return this.writes.filter((w) => w.file.endsWith(suffix)).map((w) => w.value);
  }
}
