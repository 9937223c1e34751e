import { describe, expect, it } from 'vitest';
import type { Probe } from '../../../src/manifest/types.js';
import { ContainerProbes } from '../../../src/probes/container-probes.js';
import type { ActionRunner, ProbeKind, ProbeResult } from '../../../src/probes/types.js';
import { FakeTimers } from './fake-timers.js';

const probe = (o: Partial<Probe> & { cmd: string }): Probe => ({
  exec: { command: [o.cmd] },
  initialDelaySeconds: o.initialDelaySeconds ?? 0,
  periodSeconds: o.periodSeconds ?? 10,
  timeoutSeconds: o.timeoutSeconds ?? 1,
  successThreshold: o.successThreshold ?? 1,
  failureThreshold: o.failureThreshold ?? 3,
});

type Outcome = boolean | 'hang' | { after: number; ok: boolean };

/**
 * A runner whose results are scripted per command (the probe's exec command names it); it logs
 * each call with the fake time it started at.
 */
function scripted(timers: FakeTimers, script: Record<string, Outcome[]>) {
  const calls: { cmd: string; at: number; signal: AbortSignal }[] = [];
  const run: ActionRunner = (handler, { signal }) => {
    const cmd = handler.exec!.command[0]!;
    calls.push({ cmd, at: timers.now(), signal });
    const list = script[cmd]!;
    const outcome = list.length > 1 ? list.shift()! : list[0]!;
    if (outcome === 'hang') return new Promise<ProbeResult>(() => {});
    if (typeof outcome === 'object') {
      return new Promise<ProbeResult>((resolve) => timers.setTimeout(() => resolve({ success: outcome.ok }), outcome.after));
    }
    return Promise.resolve({ success: outcome, message: outcome ? undefined : `${cmd} failed` });
  };
  const at = (cmd: string): number[] => calls.filter((c) => c.cmd === cmd).map((c) => c.at);
  return { run, calls, at };
}

function events() {
  const log: string[] = [];
  return {
    log,
    callbacks: {
      onReadyChange: (ready: boolean) => log.push(`ready=${ready}`),
      onLivenessFailed: (r: ProbeResult) => log.push(`liveness-failed: ${r.message}`),
      onStartupFailed: (r: ProbeResult) => log.push(`startup-failed: ${r.message}`),
    },
  };
}

describe('ContainerProbes', () => {
  it('makes a container without startup or readiness probe ready as soon as it starts', () => {
    const timers = new FakeTimers();
    const e = events();
    const p = new ContainerProbes({ probes: {}, run: scripted(timers, {}).run, timers, ...e.callbacks });
    expect(p.ready).toBe(false);
    p.start();
    expect(p.ready).toBe(true);
    expect(p.started).toBe(true);
    expect(e.log).toEqual(['ready=true']);
    expect(timers.timerCount).toBe(0);
  });

  it('readiness: first probe after initialDelaySeconds, ready after successThreshold, unready after failureThreshold', async () => {
    const timers = new FakeTimers();
    const e = events();
    const r = scripted(timers, { ready: [false, true, true, false, false, true, false, false, false, true] });
    const p = new ContainerProbes({
      probes: {
        readinessProbe: probe({ cmd: 'ready', initialDelaySeconds: 5, periodSeconds: 10, successThreshold: 2, failureThreshold: 3 }),
      },
      run: r.run,
      timers,
      ...e.callbacks,
    });
    p.start();
    await timers.advance(4_999);
    expect(r.calls).toHaveLength(0);
    await timers.advance(1);
    expect(r.at('ready')).toEqual([5_000]);
    expect(p.ready).toBe(false);
    await timers.advance(10_000); // success 1 of 2
    expect(p.ready).toBe(false);
    await timers.advance(10_000); // success 2 of 2
    expect(p.ready).toBe(true);
    await timers.advance(30_000); // fail, fail, success: the run of failures is broken
    expect(p.ready).toBe(true);
    await timers.advance(20_000); // fail, fail
    expect(p.ready).toBe(true);
    await timers.advance(10_000); // third failure in a row
    expect(p.ready).toBe(false);
    expect(r.at('ready')).toEqual([5, 15, 25, 35, 45, 55, 65, 75, 85].map((s) => s * 1000));
    expect(e.log).toEqual(['ready=true', 'ready=false']);
  });

  it('liveness: failureThreshold failures in a row report once and stop probing; a success resets the count', async () => {
    const timers = new FakeTimers();
    const e = events();
    const r = scripted(timers, { live: [false, false, true, false, false, false, true] });
    const p = new ContainerProbes({
      probes: { livenessProbe: probe({ cmd: 'live', periodSeconds: 1, failureThreshold: 3 }) },
      run: r.run,
      timers,
      ...e.callbacks,
    });
    p.start();
    expect(e.log).toEqual(['ready=true']); // no readiness probe: ready at once
    await timers.advance(10_000);
    expect(r.at('live')).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(e.log).toEqual(['ready=true', 'liveness-failed: live failed']);
    expect(timers.timerCount).toBe(0);
  });

  it('startup gates liveness and readiness; they count initialDelaySeconds from the container start', async () => {
    const timers = new FakeTimers();
    const e = events();
    const r = scripted(timers, { start: [false, false, true], live: [true], ready: [true] });
    const p = new ContainerProbes({
      probes: {
        startupProbe: probe({ cmd: 'start', periodSeconds: 2, failureThreshold: 5 }),
        livenessProbe: probe({ cmd: 'live', initialDelaySeconds: 10, periodSeconds: 5 }),
        readinessProbe: probe({ cmd: 'ready', periodSeconds: 5 }),
      },
      run: r.run,
      timers,
      ...e.callbacks,
    });
    p.start();
    await timers.advance(3_000);
    expect(p.started).toBe(false);
    expect(r.at('live')).toEqual([]);
    expect(r.at('ready')).toEqual([]);
    await timers.advance(1_000); // third startup probe at 4s succeeds
    expect(p.started).toBe(true);
    expect(r.at('start')).toEqual([0, 2000, 4000]);
    expect(r.at('ready')).toEqual([4000]); // at once after startup
    expect(p.ready).toBe(true);
    await timers.advance(8_000);
    expect(r.at('live')).toEqual([10_000]); // not before 10s after the container started
    expect(r.at('start')).toHaveLength(3); // startup probing ended with its success
  });

  it('startup: failureThreshold failures in a row fail the container and nothing else runs', async () => {
    const timers = new FakeTimers();
    const e = events();
    const r = scripted(timers, { start: [false], live: [true] });
    const p = new ContainerProbes({
      probes: { startupProbe: probe({ cmd: 'start', periodSeconds: 1, failureThreshold: 4 }), livenessProbe: probe({ cmd: 'live' }) },
      run: r.run,
      timers,
      ...e.callbacks,
    });
    p.start();
    await timers.advance(60_000);
    expect(r.at('start')).toEqual([0, 1000, 2000, 3000]);
    expect(r.at('live')).toEqual([]);
    expect(e.log).toEqual(['startup-failed: start failed']);
    expect(p.ready).toBe(false);
  });

  it('a probe that outlives timeoutSeconds fails and is aborted', async () => {
    const timers = new FakeTimers();
    const e = events();
    const r = scripted(timers, { live: ['hang'] });
    const p = new ContainerProbes({
      probes: { livenessProbe: probe({ cmd: 'live', periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 2 }) },
      run: r.run,
      timers,
      ...e.callbacks,
    });
    p.start();
    await timers.advance(1_999);
    expect(r.calls[0]!.signal.aborted).toBe(false);
    await timers.advance(1);
    expect(r.calls[0]!.signal.aborted).toBe(true);
    await timers.advance(10_000);
    expect(r.at('live')).toEqual([0, 10_000]);
    expect(e.log).toEqual(['ready=true', 'liveness-failed: timed out after 2s']);
  });

  it('measures the period from probe start to probe start and never overlaps probes', async () => {
    const timers = new FakeTimers();
    const r = scripted(timers, {
      ready: [
        { after: 3_000, ok: true },
        { after: 15_000, ok: true },
        { after: 1_000, ok: true },
      ],
    });
    const p = new ContainerProbes({
      probes: { readinessProbe: probe({ cmd: 'ready', periodSeconds: 10, timeoutSeconds: 20 }) },
      run: r.run,
      timers,
    });
    p.start();
    await timers.advance(40_000);
    // 0 (3 s), 10 (15 s, overdue: the next starts right when it ends), 25, 35
    expect(r.at('ready')).toEqual([0, 10_000, 25_000, 35_000]);
  });

  it('stop() ends probing, aborts the probe in flight and silences its result', async () => {
    const timers = new FakeTimers();
    const e = events();
    const r = scripted(timers, { ready: [{ after: 5_000, ok: true }] });
    const p = new ContainerProbes({
      probes: { readinessProbe: probe({ cmd: 'ready', timeoutSeconds: 10 }) },
      run: r.run,
      timers,
      ...e.callbacks,
    });
    p.start();
    await timers.advance(1_000);
    p.stop();
    expect(r.calls[0]!.signal.aborted).toBe(true);
    await timers.advance(60_000);
    expect(r.calls).toHaveLength(1);
    expect(e.log).toEqual([]);
  });

  it('a runner that throws counts as a failure', async () => {
    const timers = new FakeTimers();
    const results: [ProbeKind, ProbeResult][] = [];
    const p = new ContainerProbes({
      probes: { readinessProbe: probe({ cmd: 'x' }) },
      run: () => {
        throw new Error('boom');
      },
      timers,
      onResult: (k, res) => results.push([k, res]),
    });
    p.start();
    await timers.advance(0);
    expect(results).toEqual([['readiness', { success: false, message: 'boom' }]]);
    p.stop();
  });

  it("hands a grpc probe's action to the runner and reports started after the startup probe", async () => {
    const timers = new FakeTimers();
    const seen: unknown[] = [];
    const log: string[] = [];
    const grpcProbe: Probe = {
      grpc: { port: 9000, service: 'shop' },
      initialDelaySeconds: 0,
      periodSeconds: 1,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    };
    const run: ActionRunner = (handler) => {
      seen.push(handler.grpc);
      return Promise.resolve({ success: true });
    };
    const p = new ContainerProbes({ probes: { startupProbe: grpcProbe }, run, timers, onStarted: () => log.push('started') });
    p.start();
    expect(log).toEqual([]);
    await timers.advance(0);
    expect(seen).toEqual([{ port: 9000, service: 'shop' }]);
    expect(log).toEqual(['started']);
    p.stop();
  });
});
