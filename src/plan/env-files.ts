/** Env files read for `fileKeyRef` (src/volumes/env-file.ts reads them), as the plan takes them. */

/** Parsed env files by `<volume>/<path>`; null for a file that does not exist. */
export type EnvFiles = ReadonlyMap<string, ReadonlyMap<string, string> | null>;

export function envFileKey(volumeName: string, filePath: string): string {
  return `${volumeName}/${filePath}`;
}
