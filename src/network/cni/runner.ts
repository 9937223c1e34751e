/**
 * Running a whole conflist: ADD in order with each result fed to the next plugin as prevResult,
 * DEL in reverse order with the cached ADD result, CHECK in order (0.4.0+).
 */
import { buildPluginConfig, supportsCheckAndDelPrevResult } from './conflist.js';
import { CniError } from './errors.js';
import { invokePlugin } from './invoke.js';
import type { CniConfList, CniResult, CniRuntime } from './types.js';

export async function addNetworkList(list: CniConfList, rt: CniRuntime): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const plugin of list.plugins) {
    const conf = buildPluginConfig(list, plugin, 'ADD', rt.runtimeConfig, prev);
    const result = await invokePlugin(plugin.type, 'ADD', conf, rt);
    // A plugin that prints nothing passes the previous result through.
    if (result) prev = result;
  }
  if (!prev) throw new CniError(list.plugins.at(-1)?.type ?? list.name, 'ADD', `no plugin of network ${list.name} returned a result`);
  return prev;
}

/**
 * DEL runs every plugin even when one fails: a half-deleted pod is worse than a reported error.
 * Returns the errors instead of throwing so the caller can clean up behind the plugins.
 */
export async function delNetworkList(list: CniConfList, rt: CniRuntime, cached?: CniResult): Promise<Error[]> {
  const errors: Error[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    const conf = buildPluginConfig(list, plugin, 'DEL', rt.runtimeConfig, cached);
    try {
      await invokePlugin(plugin.type, 'DEL', conf, rt);
    } catch (err) {
      errors.push(err as Error);
    }
  }
  return errors;
}

export async function checkNetworkList(list: CniConfList, rt: CniRuntime, cached: CniResult): Promise<void> {
  if (list.disableCheck || !supportsCheckAndDelPrevResult(list.cniVersion)) return;
  for (const plugin of list.plugins) {
    await invokePlugin(plugin.type, 'CHECK', buildPluginConfig(list, plugin, 'CHECK', rt.runtimeConfig, cached), rt);
  }
}
