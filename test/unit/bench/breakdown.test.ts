import { describe, expect, it } from 'vitest';
import { collapseTrace, normalizeStep, traceBreakdown } from '../../../bench/scenarios/breakdown.js';

const t = (...points: [number, string][]): { atMs: number; step: string }[] => points.map(([atMs, step]) => ({ atMs, step }));

describe('normalizeStep', () => {
  it('drops the container name from per-container steps only', () => {
    expect(normalizeStep("container web exec'd")).toBe("container(s) exec'd");
    expect(normalizeStep('container c plan sent')).toBe('container(s) plan sent');
    expect(normalizeStep('containers started')).toBe('containers started');
    expect(normalizeStep('teardown: network done')).toBe('teardown: network done');
    expect(normalizeStep('warm sandbox claimed (3 booted container helpers used)')).toBe(
      'warm sandbox claimed (3 booted container helpers used)',
    );
  });
});

describe('collapseTrace', () => {
  it('keeps the last of consecutive equal steps, in any container order', () => {
    const a = collapseTrace(
      t(
        [1, 'network ready'],
        [2, 'container a plan sent'],
        [3, 'container b plan sent'],
        [7, "container b exec'd"],
        [9, "container a exec'd"],
        [10, 'containers started'],
      ),
    );
    expect(a).toEqual(t([1, 'network ready'], [3, 'container(s) plan sent'], [9, "container(s) exec'd"], [10, 'containers started']));
  });
});

describe('traceBreakdown', () => {
  it('uses the most common step sequence and reports how many runs had it', () => {
    const common = t(
      [10, 'manifest read'],
      [12, 'daemon connected'],
      [20, 'pod init running'],
      [25, 'helpers in their cgroups'],
      [30, 'teardown: files removed'],
    );
    const swapped = t(
      [10, 'manifest read'],
      [12, 'daemon connected'],
      [18, 'helpers in their cgroups'],
      [22, 'pod init running'],
      [30, 'teardown: files removed'],
    );
    const r = traceBreakdown([common, swapped, common], [32, 40, 34]);
    expect(r.used).toBe(2);
    expect(r.steps.map((s) => s.step)).toEqual([
      'client process start → manifest read',
      '→ daemon connected',
      '→ pod init running',
      '→ helpers in their cgroups',
      '→ teardown: files removed',
      '→ client exit (after the last trace point)',
    ]);
    expect(r.steps[2]!.medianMs).toBe(8);
    expect(r.steps.at(-1)!.medianMs).toBe(3);
  });

  it('shows steps it does not know, and nothing without traces', () => {
    const r = traceBreakdown([t([5, 'something new'], [9, 'containers started'])], [20]);
    expect(r.steps.map((s) => s.step)).toEqual([
      'client process start → something new',
      '→ containers started',
      '→ container ran and exited, teardown, client exit (after the last trace point)',
    ]);
    expect(traceBreakdown([], [])).toEqual({ steps: [], used: 0 });
    expect(traceBreakdown([[]], [3])).toEqual({ steps: [], used: 0 });
  });
});
