// Bundles the compiled program (dist/src, from tsc) into one CommonJS file per entry point
// under dist/bundle/. Every minipod process on a pod's path (the `run` client, the pooled
// helpers, `minipod-oci create`) is a fresh Node, and what it loads before its first useful
// step is CPU the pod waits for, or a pool refill takes from the next pod (docs/performance.md,
// "Loading less per process"). Measured per process on this project's 2-CPU machines: Node 20's
// ESM loader costs ~0.5 ms per module (about a hundred in dist/src); a bundle split into shared
// ESM chunks still loaded 10-13 files per process, and one CommonJS file per entry point takes
// ~25 ms of CPU less for a helper and ~40 ms less for the `run` client than those chunks. The
// full CLI stays ESM in chunks (below).
// koffi stays external: it loads a native addon from node_modules.
import fs from 'node:fs';
import { build } from 'esbuild';

// The processes on a pod's path: one CommonJS file each.
const perProcess = {
  // `run` and `rm -f` without the rest of the CLI (src/cli/fast-client.ts).
  client: 'dist/src/cli/fast-client.js',
  // bin/minipod-oci: runc's command line (conmon runs its `create` for every container).
  oci: 'dist/src/oci/cli/main.js',
  // Spawned by path, relative to the bundle that spawns them (import.meta.url of the bundle).
  'helper-main': 'dist/src/process/helper-main.js',
  'netns-probe-main': 'dist/src/probes/netns-probe-main.js',
};

const OUT = 'dist/bundle';
// Files of an earlier layout must not linger beside the new ones.
fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT, { recursive: true });
// The package is "type": "module"; the .js files here are CommonJS (a helper is spawned as
// helper-main.js, the name tsc gives it in dist/src, where it is ESM), the full CLI is .mjs.
fs.writeFileSync(`${OUT}/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');

const common = { bundle: true, platform: 'node', target: 'node20', external: ['koffi'], logLevel: 'warning' };

await Promise.all([
  ...Object.entries(perProcess).map(([name, entry]) =>
    build({
      ...common,
      entryPoints: [entry],
      outfile: `${OUT}/${name}.js`,
      format: 'cjs',
      // The client parses a manifest only on its cold path (no daemon yet): yaml (~260 KB, more
      // than half the bundle, parsed by V8 at every start) is required from node_modules then.
      external: name === 'client' ? ['koffi', 'yaml'] : ['koffi'],
      // The sources are ESM and find their neighbours (the helper script, koffi) from
      // import.meta.url; in a CommonJS bundle that is the bundle file's own URL.
      define: { 'import.meta.url': '__minipodImportMetaUrl' },
      banner: { js: "const __minipodImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    }),
  ),
  // The full CLI and the daemon: ESM split into chunks loaded on use, so `minipod ps` does not
  // parse the image or network code (one file would be 1.3 MB: ~40 ms more per command).
  build({
    ...common,
    entryPoints: { cli: 'dist/src/cli/main.js' },
    outdir: OUT,
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
    // Bundled CommonJS dependencies call require(); give them one in the ESM output.
    banner: { js: "import { createRequire as __minipodRequire } from 'node:module'; const require = __minipodRequire(import.meta.url);" },
  }),
]);
