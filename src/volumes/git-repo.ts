/**
 * `gitRepo` volumes: an emptyDir with a git repository cloned into it before the pod's
 * containers start, as kubelet's git_repo plugin does (`git clone -- REPOSITORY [DIRECTORY]`
 * in the volume, then `git checkout REVISION` and `git reset --hard` in the clone).
 *
 * Kubernetes deprecated the plugin and, since 1.33, disables it by default: git ran as root on
 * the node over a repository the manifest names, and CVE-2024-10220 ran the repository's own
 * hooks that way. minipod runs git with that door shut: no hooks (`core.hooksPath=/dev/null`),
 * no fsmonitor, no submodules, no system or global git configuration, no terminal prompt, and
 * only the network transports (https, http, git): a local path, `file://`, `ext::` or ssh (with
 * the host's keys) is refused by git itself.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HostError, UserError } from '../errors.js';

export interface GitRepoSource {
  repository: string;
  revision?: string;
  directory?: string;
}

/** A clone of a real repository takes seconds; a hung server must not hold the pod forever. */
const GIT_TIMEOUT_MS = 5 * 60_000;

const SAFE_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'safe.bareRepository=explicit',
  'protocol.allow=never',
  'protocol.https.allow=always',
  'protocol.http.allow=always',
  'protocol.git.allow=always',
  'submodule.recurse=false',
].flatMap((c) => ['-c', c]);

function git(args: string[], cwd: string, field: string): Promise<void> {
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
  };
  return new Promise((resolve, reject) => {
    execFile('git', [...SAFE_CONFIG, ...args], { cwd, env, timeout: GIT_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new HostError(`${field}: git is not installed on this host`, { hint: 'apt-get install git' }));
        return;
      }
      const why = String(stderr).trim().split('\n').filter(Boolean).pop() ?? err.message;
      reject(new UserError(`${field}: git ${args[0]} failed: ${why}`, { code: 'volume.git-failed' }));
    });
  });
}

/** Clones the repository into `dir` (an existing, empty directory) as kubelet does. */
export async function cloneGitRepo(dir: string, source: GitRepoSource, field: string): Promise<void> {
  const args = ['clone', '--no-recurse-submodules', '--', source.repository];
  if (source.directory) args.push(source.directory);
  await git(args, dir, `${field}.repository`);
  if (!source.revision) return;
  let subdir: string;
  if (source.directory && path.normalize(source.directory) === '.') subdir = dir;
  else {
    const entries = fs.readdirSync(dir);
    if (entries.length !== 1) throw new UserError(`${field}: unexpected directory contents after the clone: ${entries.join(', ')}`);
    subdir = path.join(dir, entries[0]!);
  }
  await git(['checkout', source.revision], subdir, `${field}.revision`);
  await git(['reset', '--hard'], subdir, `${field}.revision`);
}
