// Bundles the compiled program (dist/src, from tsc) into one file per entry point under
// dist/bundle/. Node 20's ESM loader costs ~0.5 ms per module and minipod has about a hundred:
// one bundle halves the start-up of every minipod process (CLI, supervisor, helpers), which
// sits on the pod start path (docs/performance.md). koffi stays external: it loads a native
// addon from node_modules.
import { build } from 'esbuild';

const entries = {
  cli: 'dist/src/cli/main.js',
  // `run` and `rm -f` without the rest of the CLI (src/cli/fast-client.ts).
  client: 'dist/src/cli/fast-client.js',
  // bin/minipod-oci: runc's command line; subcommands are split into chunks loaded on use.
  oci: 'dist/src/oci/cli/main.js',
  // Spawned by path, relative to the bundle that spawns them (import.meta.url of the bundle).
  'helper-main': 'dist/src/process/helper-main.js',
  'netns-probe-main': 'dist/src/probes/netns-probe-main.js',
};

await build({
  entryPoints: entries,
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi'],
  // Code split into shared chunks loaded when first imported: the thin client (client.js) then
  // loads the manifest parser only on its cold path. Chunks sit beside the entry points, so
  // paths relative to import.meta.url (the helper script) stay the same.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  // Bundled CommonJS dependencies call require(); give them one in the ESM output.
  banner: { js: "import { createRequire as __minipodRequire } from 'node:module'; const require = __minipodRequire(import.meta.url);" },
  logLevel: 'warning',
});
