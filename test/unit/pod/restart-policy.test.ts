import { describe, expect, it } from 'vitest';
import { backoffDelay, nextBackoffCount, podExitCode, shouldRestart, signalExitCode } from '../../../src/pod/restart-policy.js';

describe('restart policy', () => {
  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 2, true],
    ['Never', 1, false],
  ] as const)('%s with exit %i restarts: %s', (policy, code, expected) => {
    expect(shouldRestart(policy, code)).toBe(expected);
  });
  it('backs off 10 s doubling to 5 min', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(backoffDelay)).toEqual([10e3, 20e3, 40e3, 80e3, 160e3, 300e3, 300e3, 300e3]);
  });
  it('resets the back-off after 10 minutes of running', () => {
    expect(nextBackoffCount(4, 60_000)).toBe(5);
    expect(nextBackoffCount(4, 600_000)).toBe(0);
  });
  it('exits with the first failure, else 0', () => {
    expect(podExitCode([])).toBe(0);
    expect(
      podExitCode([
        { name: 'a', exitCode: 0, finishedAt: 1 },
        { name: 'b', exitCode: 3, finishedAt: 5 },
        { name: 'c', exitCode: 9, finishedAt: 2 },
      ]),
    ).toBe(9);
  });
  it('counts only the last run of each container: OnFailure that failed twice, then succeeded, is 0', () => {
    const runs = [
      { name: 'flaky', exitCode: 1, finishedAt: 1 },
      { name: 'ok', exitCode: 0, finishedAt: 2 },
      { name: 'flaky', exitCode: 1, finishedAt: 11 },
      { name: 'flaky', exitCode: 0, finishedAt: 31 },
    ];
    expect(podExitCode(runs)).toBe(0);
    // Its last run failing still fails the pod, with that run's code.
    expect(podExitCode([...runs, { name: 'flaky', exitCode: 4, finishedAt: 40 }])).toBe(4);
  });
  it('maps signals to 128+n', () => {
    expect(signalExitCode('SIGKILL', null)).toBe(137);
    expect(signalExitCode(null, 4)).toBe(4);
  });
});
