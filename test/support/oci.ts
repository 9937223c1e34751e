/** Bundles and calls of bin/minipod-oci for the integration tests (root). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUSYBOX_ROOTFS, REPO } from './minipod.js';

export const MINIPOD_OCI = path.join(REPO, 'bin/minipod-oci');

export interface OciEnv {
  dir: string;
  root: string;
  /** A fresh bundle with busybox's rootfs (unpacked once per env) and `runc spec`'s config, edited by `edit`. */
  bundle(name: string, args: string[], edit?: (config: Record<string, any>) => void): string;
  /** Runs minipod-oci; the container's stdio (inherited from create) goes to `out`, a file. */
  oci(args: string[], options?: { input?: string; timeoutMs?: number }): { code: number; out: string };
  cleanup(): void;
}

export function makeOciEnv(name: string): OciEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `minipod-oci-${name}-`));
  const root = path.join(dir, 'state');
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(rootfs);
  spawnSync('tar', ['-C', rootfs, '-xf', BUSYBOX_ROOTFS], { stdio: 'inherit' });
  let n = 0;
  return {
    dir,
    root,
    bundle(bname, args, edit) {
      const b = path.join(dir, bname);
      fs.mkdirSync(b);
      // Each bundle its own copy: a container writes in its root (the spec's readonly is off here).
      spawnSync('cp', ['-a', rootfs, path.join(b, 'rootfs')]);
      const r = spawnSync(MINIPOD_OCI, ['spec', '--bundle', b], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`spec: ${r.stderr}`);
      const config = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
      config.process.terminal = false;
      config.process.args = args;
      config.root.readonly = false;
      edit?.(config);
      fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(config, null, 2));
      return b;
    },
    oci(args, options = {}) {
      const outFile = path.join(dir, `out-${n++}`);
      const fd = fs.openSync(outFile, 'w');
      try {
        const r = spawnSync(MINIPOD_OCI, ['--root', root, ...args], {
          stdio: [options.input === undefined ? 'ignore' : 'pipe', fd, fd],
          input: options.input,
          timeout: options.timeoutMs ?? 30_000,
        });
        return { code: r.status ?? 128 + 9, out: fs.readFileSync(outFile, 'utf8') };
      } finally {
        fs.closeSync(fd);
      }
    },
    cleanup() {
      for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) spawnSync(MINIPOD_OCI, ['--root', root, 'delete', '--force', id]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
