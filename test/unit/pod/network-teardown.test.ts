import { describe, expect, it } from 'vitest';
import { planNetworkTeardown, podNetworkIds } from '../../../src/pod/network-teardown.js';

describe('podNetworkIds', () => {
  it('is the uid first, then the name pods before it used', () => {
    expect(podNetworkIds('web', 'a1b2')).toEqual(['a1b2', 'web']);
    expect(podNetworkIds('web', undefined)).toEqual(['web']);
  });
});

describe('planNetworkTeardown', () => {
  const ids = ['a1b2', 'web'];
  const facts = { ids, attached: [], withPorts: [], pending: [], canDefer: true };

  it('leaves a bridge pod without hostPorts to the daemon', () => {
    expect(planNetworkTeardown({ ...facts, attached: ['a1b2'] })).toEqual({ now: [], background: ['a1b2'] });
  });

  it('tears down at once without a daemon to finish it (gc, the CLI)', () => {
    expect(planNetworkTeardown({ ...facts, attached: ['a1b2'], canDefer: false })).toEqual({ now: ['a1b2'], background: [] });
  });

  it('tears down at once a pod holding host ports: they must be free once the answer came', () => {
    expect(planNetworkTeardown({ ...facts, attached: ['a1b2'], withPorts: ['a1b2'] })).toEqual({ now: ['a1b2'], background: [] });
    // hostNetwork with ports: a reservation only.
    expect(planNetworkTeardown({ ...facts, withPorts: ['a1b2'] })).toEqual({ now: ['a1b2'], background: [] });
  });

  it('does nothing for a pod with nothing recorded or whose DEL is pending already', () => {
    expect(planNetworkTeardown(facts)).toEqual({ now: [], background: [] });
    expect(planNetworkTeardown({ ...facts, attached: ['a1b2'], pending: ['a1b2'] })).toEqual({ now: [], background: [] });
  });

  it('finds a pod recorded under its name (started before uids were the id)', () => {
    expect(planNetworkTeardown({ ...facts, attached: ['web'] })).toEqual({ now: [], background: ['web'] });
  });
});
