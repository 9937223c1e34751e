/**
 * Runs OCI hooks (config.json `hooks`, runtime.md "Lifecycle"): each hook's path with its args
 * (args[0] is argv[0]) and env, the container's state as JSON on stdin, killed after `timeout`
 * seconds. Synchronous on purpose: the helper runs createContainer and startContainer hooks
 * after unshare(CLONE_NEWNS), where only synchronous calls keep to its mount namespace, and
 * the runtime runs the others one after another anyway.
 */
import { spawnSync } from 'node:child_process';
import type { HookCommand } from '../plan/types.js';
import { UserError } from '../errors.js';

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations: Record<string, string>;
}

/** Runs each hook in order; the first failure is a UserError naming the kind and the hook. */
export function runHooksSync(kind: string, hooks: readonly HookCommand[] | undefined, state: HookState): void {
  (hooks ?? []).forEach((hook, i) => {
    const args = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const result = spawnSync(hook.path, args.slice(1), {
      argv0: args[0],
      env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      input: JSON.stringify(state),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: hook.timeout === undefined ? undefined : hook.timeout * 1000,
      killSignal: 'SIGKILL',
    });
    const where = `${kind} hook #${i} (${hook.path})`;
    const stderr = result.stderr?.toString().trim().split('\n').pop() ?? '';
    if (result.error) {
      const code = (result.error as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT') throw new UserError(`${where}: timed out after ${hook.timeout} s`);
      throw new UserError(`${where}: ${result.error.message}`);
    }
    if (result.signal) throw new UserError(`${where}: killed by ${result.signal}${stderr ? `: ${stderr}` : ''}`);
    if (result.status !== 0) throw new UserError(`${where}: exit status ${result.status}${stderr ? `: ${stderr}` : ''}`);
  });
}
