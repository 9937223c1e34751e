/** Running processes in running containers: `minipod exec`, exec probes and hooks. */
export { execInContainer, exitStatus, type ExecOptions, type ExecProcess } from './exec.js';
export { buildExecPlan, mergeEnv, parseEnvFlags, parseUserFlag, type ExecOverrides, type ProcessRecord } from '../plan/exec.js';
export { runInContainer, type RunOptions, type RunResult } from './run.js';
export { resolveExecTarget, type ExecTarget } from './target.js';
