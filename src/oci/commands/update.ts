/**
 * `update [--resources FILE|-] [--memory ...] ID` (runc's update.go): new limits written into
 * the container's cgroup with config.json's own translation of `linux.resources`
 * (src/oci/config/resources.ts), so a value means what it means at create.
 */
import fs from 'node:fs';
import path from 'node:path';
import { nodeCgroupFs } from '../../cgroups/index.js';
import { UserError } from '../../errors.js';
import { requireOperands, stringFlag } from '../cli/args.js';
import type { OciCommand } from '../cli/command.js';
import { resourceWrites } from '../config/resources.js';
import { cgroupOf, loadTarget, notRunning } from '../client/target.js';
import { mergeResources, orderV1MemoryWrites, parseResourcesJson, resourcesFromFlags, UPDATE_FLAGS } from '../client/update-resources.js';

function readResources(source: string): string {
  try {
    return fs.readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new UserError(`--resources ${source}: ${(err as Error).message}`);
  }
}

export const updateCommand: OciCommand = {
  flags: [
    { name: 'resources', alias: 'r', kind: 'string' },
    ...Object.keys(UPDATE_FLAGS).map((name) => ({ name, kind: 'string' as const })),
    { name: 'l3-cache-schema', kind: 'string' },
    { name: 'mem-bw-schema', kind: 'string' },
  ],
  run(ctx, args) {
    requireOperands(args, 'update', 1);
    const { record, status } = loadTarget(ctx.global.root, args.operands[0]!);
    if (status === 'stopped') throw notRunning();
    for (const flag of ['l3-cache-schema', 'mem-bw-schema']) {
      if (stringFlag(args, flag) !== undefined) throw new UserError(`--${flag}: Intel RDT is not supported by minipod-oci`);
    }
    const source = stringFlag(args, 'resources');
    const base = source === undefined ? {} : parseResourcesJson(readResources(source), source);
    const given = new Map<string, string>();
    for (const name of Object.keys(UPDATE_FLAGS)) {
      const v = stringFlag(args, name);
      if (v !== undefined) given.set(name, v);
    }
    const resources = mergeResources(base, resourcesFromFlags(given));
    const { manager } = cgroupOf(record);
    const paths = record.cgroup?.paths ?? {};
    let writes = resourceWrites(resources, manager.version);
    if (manager.version === 'v1' && paths.memory) {
      const memsw = path.join(paths.memory, 'memory.memsw.limit_in_bytes');
      writes = orderV1MemoryWrites(writes, fs.existsSync(memsw) ? Number(fs.readFileSync(memsw, 'utf8').trim()) : undefined);
    }
    for (const w of writes) {
      const dir = paths[w.controller];
      const file = dir === undefined ? undefined : path.join(dir, w.file);
      if (file === undefined || !fs.existsSync(file)) {
        throw new UserError(`${w.field.replace(/^linux\.resources\./, '')}: this host has no cgroup file ${w.file}`);
      }
      nodeCgroupFs.write(file, w.value);
    }
    return 0;
  },
};
