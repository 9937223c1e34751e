/**
 * The state store: one directory per container under `--root` (runc's layout):
 * `<root>/<id>/state.json` (the record below) and, between create and start, `exec.fifo`, on
 * which the container's init waits. The status is never stored: it is read from the kernel
 * each time (runc does the same), so a container that exited or was killed behind our back is
 * `stopped` without anyone telling us.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { OciHooks } from '../config/types.js';

export type OciStatus = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** The init's pid on the host (0 while creating). */
  pid: number;
  /** Field 22 of /proc/<pid>/stat when it was recorded: a recycled pid is never taken for it. */
  pidStartTime: string;
  /** Absolute bundle path. */
  bundle: string;
  /** Absolute path of the root filesystem. */
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  annotations: Record<string, string>;
  /** The container's cgroup: its directory in every hierarchy, and whether we made it. */
  cgroup?: { paths: Record<string, string>; owned: boolean; manager: { parent: string; name: string } };
  /** The hooks still to run after create (poststart at start, poststop at delete). */
  hooks?: Pick<OciHooks, 'poststart' | 'poststop'>;
  /** process.terminal, for exec's defaults. */
  terminal?: boolean;
}

/** The `state` operation's JSON (runtime.md "State"), in runc's field order. */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: OciStatus;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

const ID_PATTERN = /^[\w+\-.]+$/;

/** runc's rule for ids: letters, digits, `_+-.`, not `.` or `..`. */
export function checkContainerId(id: string): void {
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') throw new UserError(`invalid container id format: ${id}`);
}

export function notExist(id: string): UserError {
  return new UserError(`container ${id} does not exist`, { code: 'oci.not-exist' });
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    checkContainerId(id);
    return path.join(this.root, id);
  }

  fifo(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id: mkdir is atomic, so two creates of one id cannot both win. */
  claim(id: string): string {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`container with id exists: ${id}`, { code: 'oci.exists' });
      throw err;
    }
    return dir;
  }

  /** Written whole then renamed: a reader never sees half a record. */
  save(record: ContainerRecord): void {
    const file = path.join(this.dir(record.id), 'state.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
    fs.renameSync(`${file}.tmp`, file);
  }

  /** The record, or undefined when the id is unknown (or a create is still claiming it). */
  find(id: string): ContainerRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  load(id: string): ContainerRecord {
    const r = this.find(id);
    if (!r) throw notExist(id);
    return r;
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return fs
        .readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && ID_PATTERN.test(d.name))
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  }

  hasFifo(id: string): boolean {
    return fs.existsSync(this.fifo(id));
  }
}

/** Field 22 (starttime) of /proc/<pid>/stat and the state letter, or undefined when gone. */
export function readProcStat(pid: number, procRoot = '/proc'): { startTime: string; state: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last `)`.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: fields[19]! };
}

/** True while the recorded init runs (not a zombie, not a recycled pid). */
export function initAlive(record: Pick<ContainerRecord, 'pid' | 'pidStartTime'>, procRoot = '/proc'): boolean {
  if (record.pid <= 0) return false;
  const stat = readProcStat(record.pid, procRoot);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return stat.startTime === record.pidStartTime;
}

function frozen(record: ContainerRecord): boolean {
  const paths = record.cgroup?.paths ?? {};
  try {
    if (paths.freezer) return fs.readFileSync(path.join(paths.freezer, 'freezer.state'), 'utf8').trim() === 'FROZEN';
    const v2 = paths.unified ?? paths[''];
    if (v2) return /^frozen 1$/m.test(fs.readFileSync(path.join(v2, 'cgroup.events'), 'utf8'));
  } catch {
    // No freezer: never paused.
  }
  return false;
}

/** runc's status: stopped once the init is gone, created while the fifo waits, paused when frozen. */
export function statusOf(store: StateStore, record: ContainerRecord): OciStatus {
  if (record.pid === 0) return 'creating';
  if (!initAlive(record)) return 'stopped';
  if (store.hasFifo(record.id)) return 'created';
  return frozen(record) ? 'paused' : 'running';
}

export function stateOf(store: StateStore, record: ContainerRecord): OciState {
  const status = statusOf(store, record);
  return {
    ociVersion: record.ociVersion,
    id: record.id,
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    annotations: record.annotations,
    owner: '',
  };
}
