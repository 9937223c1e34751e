/** What the verbs that act on the host share: the host's runtime objects. */
export { reportError, requireRoot } from './report.js';
export { hostRuntime, type Runtime } from '../pod/runtime.js';
