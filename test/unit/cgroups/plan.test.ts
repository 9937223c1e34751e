import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import {
  milliToQuotaUs,
  milliToShares,
  planPodCgroups,
  sharesToWeight,
  sharesToWeightLinear,
  type PodCgroupPlan,
} from '../../../src/cgroups/plan.js';
import { container, Mi, pod } from './pod.js';

/** `child -> { file: value }` for compact table assertions. */
function table(plan: PodCgroupPlan): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const cg of plan.cgroups) {
    out[cg.child === '' ? '<pod>' : cg.child] = Object.fromEntries(cg.writes.map((w) => [w.file, w.value]));
  }
  return out;
}

describe('conversions', () => {
  it.each([
    [0, 2],
    [1, 2],
    [100, 102],
    [200, 204],
    [1000, 1024],
    [2500, 2560],
    [1_000_000, 262_144],
  ])('milli %i -> %i shares (kubelet MilliCPUToShares)', (milli, shares) => {
    expect(milliToShares(milli)).toBe(shares);
  });

  it.each([
    [2, 1],
    [102, 17],
    [204, 29],
    [1024, 100],
    [2048, 174],
    [262_144, 10_000],
  ])('shares %i -> weight %i (runc >= 1.3.2 / crun >= 1.23 quadratic)', (shares, weight) => {
    expect(sharesToWeight(shares)).toBe(weight);
  });

  it('keeps the old linear formula for comparison: 1024 shares were weight 39', () => {
    expect(sharesToWeightLinear(1024)).toBe(39);
    expect(sharesToWeightLinear(2)).toBe(1);
    expect(sharesToWeightLinear(262_144)).toBe(10_000);
  });

  it('quota is milli * period / 1000, at least 1 ms as kubelet clamps', () => {
    expect(milliToQuotaUs(200)).toBe(20_000);
    expect(milliToQuotaUs(1500)).toBe(150_000);
    expect(milliToQuotaUs(5)).toBe(1_000);
  });
});

describe('planPodCgroups v2', () => {
  it('maps container limits and requests to memory.max, memory.min, cpu.max, cpu.weight', () => {
    const plan = planPodCgroups(pod([container('web', { memoryBytes: 64 * Mi, cpuMilli: 200 }, { memoryBytes: 32 * Mi, cpuMilli: 100 })]), {
      version: 'v2',
    });
    expect(plan.cgroups.map((c) => [c.kind, c.child])).toEqual([
      ['pod', ''],
      ['init', 'init'],
      ['container', 'web'],
    ]);
    expect(table(plan)).toEqual({
      '<pod>': {
        'memory.min': String(32 * Mi),
        'memory.max': String(64 * Mi),
        'memory.swap.max': '0',
        'cpu.weight': '17',
        'cpu.max': '20000 100000',
        'pids.max': '2048',
      },
      init: {},
      web: {
        'memory.min': String(32 * Mi),
        'memory.max': String(64 * Mi),
        'memory.swap.max': '0',
        'cpu.weight': '17',
        'cpu.max': '20000 100000',
        'memory.oom.group': '1',
      },
    });
  });

  it('defaults requests to limits (Kubernetes API defaulting)', () => {
    const t = table(planPodCgroups(pod([container('a', { memoryBytes: 64 * Mi, cpuMilli: 1000 })]), { version: 'v2' }));
    expect(t.a!['memory.min']).toBe(String(64 * Mi));
    expect(t.a!['cpu.weight']).toBe('100');
  });

  it('leaves a container without resources at the kernel defaults, but OOM-killed as a whole (Kubernetes 1.28+)', () => {
    const t = table(planPodCgroups(pod([container('a')]), { version: 'v2' }));
    expect(t.a).toEqual({ 'memory.oom.group': '1' });
    expect(t['<pod>']).toEqual({ 'memory.swap.max': '0', 'pids.max': '2048' });
  });

  it('sums limits into the pod only when every container has one', () => {
    const all = table(
      planPodCgroups(
        pod([container('a', { memoryBytes: 64 * Mi, cpuMilli: 200 }), container('b', { memoryBytes: 32 * Mi, cpuMilli: 300 })]),
        { version: 'v2' },
      ),
    );
    expect(all['<pod>']!['memory.max']).toBe(String(96 * Mi));
    expect(all['<pod>']!['cpu.max']).toBe('50000 100000');
    expect(all['<pod>']!['cpu.weight']).toBe(String(sharesToWeight(milliToShares(500))));

    const some = table(
      planPodCgroups(pod([container('a', { memoryBytes: 64 * Mi }), container('b', {}, { cpuMilli: 100 })]), {
        version: 'v2',
      }),
    );
    expect(some['<pod>']!['memory.max']).toBeUndefined();
    expect(some['<pod>']!['cpu.max']).toBeUndefined();
    // Requests still add up: they are a floor, not a cap.
    expect(some['<pod>']!['memory.min']).toBe(String(64 * Mi));
    expect(some['<pod>']!['cpu.weight']).toBe(String(sharesToWeight(milliToShares(100))));
  });

  it('takes max(sum of app containers, largest init container) as Kubernetes does', () => {
    const spec = pod([container('a', { memoryBytes: 64 * Mi }), container('b', { memoryBytes: 64 * Mi })], {
      initContainers: [container('setup', { memoryBytes: 256 * Mi })],
    });
    const plan = planPodCgroups(spec, { version: 'v2' });
    expect(table(plan)['<pod>']!['memory.max']).toBe(String(256 * Mi));
    expect(plan.cgroups.find((c) => c.child === 'setup')!.kind).toBe('initContainer');
  });

  it('uses pod-level spec.resources when given, per resource', () => {
    const spec = pod([container('a', { memoryBytes: 64 * Mi, cpuMilli: 500 })], {
      resources: { limits: { memoryBytes: 128 * Mi }, requests: {} },
    });
    const t = table(planPodCgroups(spec, { version: 'v2' }));
    expect(t['<pod>']!['memory.max']).toBe(String(128 * Mi));
    expect(t['<pod>']!['cpu.max']).toBe('50000 100000');
  });

  it('puts pids.max on the pod from the annotation, default 2048', () => {
    const spec = pod([container('a')], { minipod: { network: 'none', swap: false, pidsMax: 50 } });
    expect(table(planPodCgroups(spec, { version: 'v2' }))['<pod>']!['pids.max']).toBe('50');
    expect(table(planPodCgroups(pod([container('a')]), { version: 'v2', defaultPidsMax: 99 }))['<pod>']!['pids.max']).toBe('99');
  });

  it('allows swap up to the limit with minipod.io/swap', () => {
    const spec = pod([container('a', { memoryBytes: 64 * Mi })], { minipod: { network: 'none', swap: true } });
    const t = table(planPodCgroups(spec, { version: 'v2' }));
    expect(t.a!['memory.swap.max']).toBe(String(64 * Mi));
    expect(t['<pod>']!['memory.swap.max']).toBe(String(64 * Mi));
    const plan1 = planPodCgroups(spec, { version: 'v1' });
    expect(table(plan1).a!['memory.memsw.limit_in_bytes']).toBe(String(128 * Mi));
  });

  it('marks swap writes optional (hosts without swap accounting)', () => {
    const plan = planPodCgroups(pod([container('a', { memoryBytes: 64 * Mi })]), { version: 'v2' });
    expect(plan.cgroups[0]!.writes.find((w) => w.file === 'memory.swap.max')!.optional).toBe(true);
  });
});

describe('planPodCgroups v1', () => {
  it('maps the same logical limits to v1 files in an order the kernel accepts', () => {
    const plan = planPodCgroups(pod([container('web', { memoryBytes: 64 * Mi, cpuMilli: 200 }, { memoryBytes: 32 * Mi, cpuMilli: 100 })]), {
      version: 'v1',
    });
    const web = plan.cgroups.find((c) => c.child === 'web')!;
    expect(web.writes.map((w) => [w.controller, w.file, w.value])).toEqual([
      ['memory', 'memory.limit_in_bytes', String(64 * Mi)],
      ['memory', 'memory.memsw.limit_in_bytes', String(64 * Mi)],
      ['memory', 'memory.soft_limit_in_bytes', String(32 * Mi)],
      ['cpu', 'cpu.shares', '102'],
      ['cpu', 'cpu.cfs_period_us', '100000'],
      ['cpu', 'cpu.cfs_quota_us', '20000'],
    ]);
    expect(table(plan)['<pod>']!['pids.max']).toBe('2048');
  });
});

describe('planPodCgroups refuses what the kernel cannot honour', () => {
  it('a memory limit below 6Mi, naming the field', () => {
    expect(() => planPodCgroups(pod([container('a'), container('b', { memoryBytes: 1 })]), { version: 'v2' })).toThrow(
      /spec\.containers\[1\]\.resources\.limits\.memory: 1 bytes is below/,
    );
  });

  it('a cpu limit of 0', () => {
    const f = () => planPodCgroups(pod([container('a', { cpuMilli: 0 })]), { version: 'v1' });
    expect(f).toThrow(UserError);
    expect(f).toThrow(/spec\.containers\[0\]\.resources\.limits\.cpu/);
  });

  it('a container named like the init cgroup', () => {
    expect(() => planPodCgroups(pod([container('init')]), { version: 'v2' })).toThrow(/"init" is reserved/);
  });

  it('a pod-level limit below the minimum', () => {
    const spec = pod([container('a')], { resources: { limits: { memoryBytes: 1024 }, requests: {} } });
    expect(() => planPodCgroups(spec, { version: 'v2' })).toThrow(/spec\.resources\.limits\.memory/);
  });
});
