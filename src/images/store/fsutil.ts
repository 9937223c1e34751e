/** Small file helpers of the image store; atomic writes are the shared ones of src/state/lock.ts. */
import { promises as fsp } from 'node:fs';

export { writeFileAtomicAsync as writeFileAtomic } from '../../state/lock.js';

export async function readJsonOrNull<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || err instanceof SyntaxError) return null;
    throw err;
  }
}

export async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}
