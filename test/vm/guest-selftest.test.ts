// Self-test of the VM harness: vitest runs as root in the guest, on a pure cgroup v2 hierarchy with
// the controllers delegated, and minipod's state dirs are on the scratch disk. Only meaningful in
// the VM (MINIPOD_IN_VM=1, set by test/vm/guest.sh); skipped elsewhere.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const inVm = process.env.MINIPOD_IN_VM === '1';
const CG = '/sys/fs/cgroup';
const dir = path.join(CG, `vm-selftest-${process.pid}`);

describe.skipIf(!inVm)('test VM', () => {
  afterAll(async () => {
    if (fs.existsSync(dir)) {
      fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      // cgroup.kill is asynchronous: wait for "populated 0" before rmdir
      for (let i = 0; i < 100 && !/^populated 0/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8')); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      fs.rmdirSync(dir);
    }
  });

  it('has a pure cgroup v2 hierarchy with the controllers minipod needs', () => {
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
    expect(mounts).toMatch(/^cgroup2 \/sys\/fs\/cgroup cgroup2 \S*nsdelegate/m);
    expect(mounts).not.toMatch(/ cgroup /); // no v1 hierarchy
    const controllers = fs.readFileSync(path.join(CG, 'cgroup.controllers'), 'utf8').trim().split(' ');
    expect(controllers).toEqual(expect.arrayContaining(['cpu', 'memory', 'pids', 'io']));
    expect(process.getuid?.()).toBe(0);
  });

  it('enforces pids.max in a child cgroup', () => {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'pids.max'), '3');
    // forks beyond the limit fail (the shell may give up: its exit status does not matter)
    spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs; for i in 1 2 3 4 5; do sleep 1 & done; wait`], {
      stdio: 'ignore',
    });
    const out = fs.readFileSync(path.join(dir, 'pids.events'), 'utf8');
    expect(out).toMatch(/^max [1-9]/m);
  });

  it('keeps minipod state on the ext4 scratch disk', () => {
    expect(process.env.MINIPOD_LIB_DIR).toBe('/var/lib/minipod');
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
    expect(mounts).toMatch(/^\/dev\/vda \/var\/lib\/minipod ext4 /m);
  });
});
