import { defineConfig } from 'vitest/config';

// In the test VM (qemu TCG, test/vm/guest.sh sets MINIPOD_IN_VM) everything runs ~10x slower,
// and with conmon holding containers every container boots two more Node processes there.
const slowdown = process.env.MINIPOD_IN_VM === '1' ? 3 : 1;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/support/setup-integration.ts'],
          // Pods share the host (cgroup parent, bridge, port range): one file at a time.
          fileParallelism: false,
          testTimeout: 60_000 * slowdown,
          hookTimeout: 60_000 * slowdown,
        },
      },
    ],
  },
});
