/**
 * The container a client command acts on: its record, its status read from the kernel, and
 * its cgroup through the cgroup manager (the record names the manager's parent and cgroup, as
 * create made it). The texts are runc's, which clients match: "does not exist", "container
 * not running".
 */
import { type CgroupManager, createCgroupManager } from '../../cgroups/index.js';
import { UserError } from '../../errors.js';
import { CGROUP_ROOT } from '../executor/cgroup.js';
import { type ContainerRecord, type OciStatus, StateStore, statusOf } from '../state/store.js';

export interface ClientTarget {
  store: StateStore;
  record: ContainerRecord;
  status: OciStatus;
}

export function loadTarget(root: string, id: string): ClientTarget {
  const store = new StateStore(root);
  const record = store.load(id);
  return { store, record, status: statusOf(store, record) };
}

export function notRunning(): UserError {
  return new UserError('container not running', { code: 'oci.not-running' });
}

export function cgroupOf(record: ContainerRecord): { manager: CgroupManager; name: string } {
  if (!record.cgroup) throw new UserError(`container ${record.id} has no cgroup of its own (linux.cgroupsPath was empty)`);
  const { parent, name } = record.cgroup.manager;
  return { manager: createCgroupManager({ root: CGROUP_ROOT, parent }), name };
}

/** Every cgroup.procs of the container's cgroup, one per hierarchy. */
export function cgroupProcsFiles(record: ContainerRecord): string[] {
  return Object.values(record.cgroup?.paths ?? {}).map((dir) => `${dir}/cgroup.procs`);
}
