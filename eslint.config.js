// ESLint (flat config) with typescript-eslint's recommended rules, plus the project's own
// structure rules. `npm run lint` runs it with the layer check (.dependency-cruiser.cjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'bench/results/**', 'rootfs-tools/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      // Unused arguments named _x are intentional (interface shapes, callbacks).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
  },
  {
    // The syscall seam: libc is reached only through src/syscall (its Syscall interface and the
    // recording fake), so unit tests see every kernel call. A new bypass fails CI.
    files: ['src/**/*.ts', 'bench/**/*.ts', 'rootfs-tools/**/*.ts'],
    ignores: ['src/syscall/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/native-bindings/libc', '**/native-bindings/libc.js', '**/native-bindings/libseccomp*', 'koffi'],
              message: 'call the kernel through src/syscall (the Syscall interface), not libc directly',
            },
          ],
        },
      ],
      // createRequire('koffi') would dodge the import rule: loading native code by hand is for
      // native-bindings/ only.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='require'][arguments.0.value='koffi']",
          message: 'load native code in native-bindings/ and call it through src/syscall',
        },
      ],
    },
  },
  {
    // The house rule: no file in src/ over 500 lines (split by concern before it gets there).
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }] },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Fakes implement interfaces partially and cast; tests may use non-null assertions freely.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
