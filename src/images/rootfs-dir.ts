/**
 * `image:` naming a root filesystem directory: used in place as the single lower dir. overlayfs
 * never writes to a lower dir, so the directory stays untouched.
 */
import { promises as fsp } from 'node:fs';
import type { ResolveContext, ResolvedImage } from './types.js';

export async function resolveRootfsDir(ctx: ResolveContext, abs: string): Promise<ResolvedImage> {
  const real = await fsp.realpath(abs);
  if (real === '/') {
    throw ctx.fail(`${ctx.image}: the host's root directory cannot be used as an image`, 'image.invalid');
  }
  checkLowerDirPath(ctx, real);
  const names = await fsp.readdir(real);
  if (names.length === 0) {
    throw ctx.fail(`${ctx.image}: the image directory ${real} is empty`, 'image.invalid');
  }
  return { id: `dir:${real}`, layers: [real], config: {} };
}

/** overlayfs' lowerdir= uses `:` between dirs and `,` between options; neither can be escaped everywhere. */
export function checkLowerDirPath(ctx: ResolveContext, p: string): void {
  if (/[:,\n]/.test(p)) {
    throw ctx.fail(`${ctx.image}: the path ${p} contains ':' or ',', which overlayfs cannot take as a lower dir`, 'image.invalid');
  }
}
