/**
 * The layer check (`npm run lint:layers`, part of `npm run lint`): imports point one way, from
 * the command line down to the kernel, and no runtime import cycles. docs/architecture.md
 * ("Code layout") has the why of each layer.
 *
 * A folder may import its own layer and any layer below it, never one above. Type-only imports
 * count too: a type that a lower layer needs belongs in that lower layer.
 */
const LAYERS = [
  ['cli'],
  ['daemon', 'explain'],
  ['pod'],
  ['oci'],
  ['probes'],
  ['exec'],
  ['process'],
  ['namespaces', 'rootfs', 'seccomp', 'cgroups', 'network', 'images', 'volumes', 'logs', 'conmon'],
  ['state'],
  ['plan'],
  ['manifest'],
  ['syscall', 'errors.ts', 'paths.ts', 'trace.ts'],
];

const src = (names) => `^src/(${names.map((n) => n.replace('.', '\\.')).join('|')})(/|$)`;

const layerRules = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer[0]}`,
  severity: 'error',
  comment: `${layer.join(', ')} must not import the layers above it (${LAYERS.slice(0, i + 1)
    .flat()
    .join(', ')})`,
  from: { path: src(layer) },
  to: { path: src(LAYERS.slice(0, i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A runtime import cycle: modules that need each other belong together, or one of them is at the wrong layer.',
      from: { path: '^(src|native-bindings)/' },
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'native-bindings-are-the-bottom',
      severity: 'error',
      comment: 'native-bindings declares libc and kernel constants; it imports nothing of minipod.',
      from: { path: '^native-bindings/' },
      to: { path: '^src/' },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(dist|build|node_modules)/' },
  },
};
