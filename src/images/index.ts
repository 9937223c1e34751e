/**
 * src/images: turning a container's `image` into read-only overlay lower dirs.
 * See docs/images.md for what `image:` accepts, the store layout and the unpacker's rules.
 */
export { resolveImage } from './resolve.js';
export type { ImageConfig, ResolvedImage, ResolveImageOptions } from './types.js';
export { imageStopSignal } from './signal.js';
export type { PullProgress } from './import.js';
export { unpackTar, DEFAULT_LIMITS, type UnpackOptions, type UnpackLimits, type UnpackStats } from './tar/unpack.js';
