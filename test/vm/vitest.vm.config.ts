// Vitest config for the VM harness's own test files (test/vm/*.test.ts). They run only inside the
// test VM, named explicitly: test/vm/run.sh (VM_TESTS=test/vm/guest-selftest.test.ts).
// The repo's vitest.config.ts projects (unit, integration) do not include test/vm/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/vm/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
