/**
 * Env files for `env[].valueFrom.fileKeyRef` (Kubernetes 1.34 EnvFiles): a file in one of the
 * pod's emptyDirs, typically written by an init container, read when a container starts.
 *
 * The syntax is Kubernetes' subset of POSIX shell assignments: `NAME='value'` per entry, spaces
 * around `=` and before the name ignored, blank lines and lines starting with `#` ignored; the
 * value must be single-quoted and is taken literally (no escapes, newlines kept). Unquoted or
 * double-quoted values, text after the closing quote, and anything else are errors.
 *
 * The file is the pod's, so untrusted: it is opened through the volume's directory one
 * component at a time with O_NOFOLLOW (a symlink a container planted cannot send root's read
 * to a host file), must be a regular file (O_NONBLOCK: a fifo cannot hang the start), and at
 * most 1 MiB.
 */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import type { ContainerSpec } from '../manifest/types.js';
import { envFileKey, type EnvFiles } from '../plan/env-files.js';

const MAX_ENV_FILE_BYTES = 1024 * 1024;
const C = fs.constants;

/** Pure: the entries of an env file, or a UserError naming `where` and the line. */
export function parseEnvFile(text: string, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  let line = 1;
  const fail = (why: string): never => {
    throw new UserError(`${where}: line ${line}: ${why}`, { code: 'env-file.invalid' });
  };
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    if (text[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (text[i] === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const nameStart = i;
    while (i < text.length && text[i] !== '=' && text[i] !== '\n') i++;
    if (text[i] !== '=') fail("expected NAME='value'");
    const name = text.slice(nameStart, i).trimEnd();
    if (!/^[\x21-\x7e]+$/.test(name)) fail(`${JSON.stringify(name)} is not a variable name`);
    i++;
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] !== "'") fail(`the value of ${name} must be in single quotes`);
    const close = text.indexOf("'", i + 1);
    if (close < 0) fail(`the value of ${name} has no closing quote`);
    const value = text.slice(i + 1, close);
    const startLine = line;
    line += value.split('\n').length - 1;
    i = close + 1;
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i < text.length && text[i] !== '\n') {
      line = startLine;
      fail(`unexpected text after the value of ${name}`);
    }
    out.set(name, value);
  }
  return out;
}

/** Reads `filePath` below `dir` without following any symlink; null when it does not exist. */
function readBelow(dir: string, filePath: string, where: string): string | null {
  const parts = filePath.split('/').filter((p) => p !== '' && p !== '.');
  let fd = fs.openSync(dir, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
  try {
    for (const [n, part] of parts.entries()) {
      const last = n === parts.length - 1;
      const flags = last ? C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK : C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;
      let next: number;
      try {
        next = fs.openSync(`/proc/self/fd/${fd}/${part}`, flags);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return null;
        if (code === 'ELOOP' || code === 'ENOTDIR')
          throw new UserError(`${where}: not a regular file (a symlink or not a folder on the way)`);
        throw err;
      }
      fs.closeSync(fd);
      fd = next;
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UserError(`${where}: not a regular file`);
    if (st.size > MAX_ENV_FILE_BYTES) throw new UserError(`${where}: larger than ${MAX_ENV_FILE_BYTES} bytes`);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** The env files a container's fileKeyRefs name, from the pod's volume folders. */
export function readEnvFiles(container: ContainerSpec, volumeDirs: Readonly<Record<string, string>>): EnvFiles {
  const out = new Map<string, Map<string, string> | null>();
  for (const e of container.env) {
    if (!e.fromFile) continue;
    const key = envFileKey(e.fromFile.volumeName, e.fromFile.path);
    if (out.has(key)) continue;
    const dir = volumeDirs[e.fromFile.volumeName];
    const where = `env ${e.name}: fileKeyRef ${e.fromFile.volumeName}/${e.fromFile.path}`;
    if (dir === undefined) throw new Error(`${where}: volume not prepared`);
    const text = readBelow(dir, e.fromFile.path, where);
    out.set(key, text === null ? null : parseEnvFile(text, where));
  }
  return out;
}
