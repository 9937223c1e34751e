/** Every integration test file must leave the host as it found it. */
import { afterAll, beforeAll } from 'vitest';
import { expectNoLeaks, snapshotHost, type HostSnapshot } from './host-leaks.js';

let before: HostSnapshot;

beforeAll(() => {
  before = snapshotHost();
});

afterAll(async () => {
  if (process.getuid?.() !== 0) return;
  await expectNoLeaks(before, 10_000);
});
