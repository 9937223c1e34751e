/** The Pod manifest: loading, quantities, validation. See docs/manifest.md. */
export type * from './types.js';
export { loadPodManifest, parsePodManifest, parseManifestDocument, MAX_MANIFEST_BYTES, MAX_ALIASES, type ParseOptions } from './load.js';
export { parseCpuMilli, parseBytes, formatBytes, formatCpu, isValidQuantity, QuantityError } from './quantity.js';
export { ManifestError, type Issue } from './issues.js';
export { decodePod, MINIPOD_ANNOTATION_PREFIX, POD_LIMITS } from './decode.js';
export { validatePod, podChecks, effectiveRequests, MIN_CPU_LIMIT_MILLI, MIN_MEMORY_LIMIT_BYTES, type PodCheck } from './validate.js';
export { LINUX_CAPABILITIES, normaliseCapability } from './syntax.js';
