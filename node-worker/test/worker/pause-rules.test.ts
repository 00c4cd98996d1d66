import { describe, expect, it } from 'vitest';
import { createOthersLoad } from '../../src/worker/others-load.ts';
import { createPauseRules, RESUME_BELOW } from '../../src/worker/pause-rules.ts';
import { treeCpuMs } from '../../src/worker/proc-cpu.ts';
import { formatSchedule, inSchedule, parseSchedule } from '../../src/worker/schedule.ts';
import { parseWorkerArgs } from '../../src/worker/worker-args.ts';

const at = (h: number, m = 0) => h * 60 + m;

describe('--schedule', () => {
  it('parses windows, including ones past midnight, and tells inside from outside', () => {
    const s = parseSchedule('22:00-07:00,12:30-13:15');
    if ('error' in s) throw new Error(s.error);
    expect(formatSchedule(s)).toBe('22:00-07:00,12:30-13:15');
    expect(inSchedule(s, at(23))).toBe(true);
    expect(inSchedule(s, at(3))).toBe(true);
    expect(inSchedule(s, at(7))).toBe(false);
    expect(inSchedule(s, at(12, 45))).toBe(true);
    expect(inSchedule(s, at(13, 15))).toBe(false);
    const day = parseSchedule('00:00-24:00');
    if ('error' in day) throw new Error(day.error);
    expect(inSchedule(day, at(0))).toBe(true);
    expect(inSchedule(day, at(23, 59))).toBe(true);
  });

  it('names the bad window', () => {
    for (const bad of ['9-17', '09:00', '25:00-01:00', '09:00-09:00', '09:60-10:00', '24:00-01:00'])
      expect(parseSchedule(bad)).toHaveProperty('error');
    expect(parseSchedule('09:00-17:00,nonsense')).toEqual({
      error: "'nonsense' is not a window HH:MM-HH:MM (e.g. 22:00-07:00)",
    });
  });
});

describe("others' load", () => {
  it("leaves this worker's own busy cores out of the 1-minute load average", () => {
    const l = createOthersLoad();
    // The worker keeps 2 cores busy for 10 minutes while the load average reads 2: nobody else.
    let cpu = 0;
    for (let t = 0; t <= 600_000; t += 5000) {
      l.sample(t, 2, cpu);
      cpu += 2 * 5000;
    }
    expect(l.own).toBeCloseTo(2, 2);
    expect(l.value).toBeLessThan(0.01);
    // Another program adds a core's worth of load.
    for (let t = 605_000; t <= 1_200_000; t += 5000) {
      l.sample(t, 3, cpu);
      cpu += 2 * 5000;
    }
    expect(l.value).toBeCloseTo(1, 2);
  });

  it('reads a CPU time for this process tree from /proc that grows with work', () => {
    const before = treeCpuMs();
    if (before === null) return; // not Linux: the rule then counts all load as others'
    const t0 = performance.now();
    while (performance.now() - t0 < 200) Math.sqrt(Math.random());
    expect(treeCpuMs()! - before).toBeGreaterThanOrEqual(100);
  });
});

describe('pause rules', () => {
  function rig(o: { schedule?: string; above?: number; handBack?: boolean }) {
    const calls: string[] = [];
    const state = { load: 0, cpu: 0, t: 0, date: new Date(2026, 0, 1, 12, 0) };
    const sched = o.schedule === undefined ? undefined : parseSchedule(o.schedule);
    if (sched && 'error' in sched) throw new Error(sched.error);
    const rules = createPauseRules({
      agent: {
        pause: (p) => calls.push(`pause ${p?.handBackRunning ? 'hand-back ' : ''}${p?.reason}`),
        resume: () => calls.push('resume'),
      },
      ...(sched ? { schedule: sched } : {}),
      ...(o.above !== undefined ? { pauseAboveLoad: o.above } : {}),
      handBackRunning: o.handBack ?? false,
      loadAvg1: () => state.load,
      ownCpuMs: () => state.cpu,
      now: () => state.t,
      date: () => state.date,
    });
    /** `ms` pass with the worker keeping `ownCores` busy and others `otherCores`; the kernel averages both. */
    const step = (ms: number, ownCores: number, otherCores = 0) => {
      state.t += ms;
      state.cpu += ownCores * ms;
      const keep = Math.exp(-ms / 60_000);
      state.load = state.load * keep + (ownCores + otherCores) * (1 - keep);
      return rules.check();
    };
    return { rules, calls, state, step };
  }

  it('pauses outside the schedule and resumes inside it', () => {
    const r = rig({ schedule: '22:00-07:00', handBack: true });
    expect(r.rules.check()).toBe('outside the schedule 22:00-07:00');
    r.state.date = new Date(2026, 0, 1, 23, 30);
    expect(r.rules.check()).toBeNull();
    expect(r.calls).toEqual(['pause hand-back outside the schedule 22:00-07:00', 'resume']);
  });

  it("pauses on others' load above X and resumes only under 3/4 of X", () => {
    const r = rig({ above: 1 });
    r.rules.check();
    // The worker alone fills 4 cores for 10 minutes: the load average of 4 is its own.
    for (let i = 0; i < 120; i++) expect(r.step(5000, 4)).toBeNull();
    expect(r.state.load).toBeGreaterThan(3.9);
    // Another program adds 1.5 cores: above 1.
    for (let i = 0; i < 60; i++) r.step(5000, 4, 1.5);
    expect(r.rules.reason).toMatch(/^load from other programs 1\.\d\d is above 1$/);
    // Paused, the worker idles; others at 0.9 (under 1, not under 0.75) keep it paused…
    for (let i = 0; i < 120; i++) r.step(5000, 0, 0.9);
    expect(r.rules.reason).not.toBeNull();
    // …until they drop under 3/4 of the limit.
    for (let i = 0; i < 120; i++) r.step(5000, 0, RESUME_BELOW - 0.1);
    expect(r.rules.reason).toBeNull();
    expect(r.calls.map((c) => c.split(' ')[0])).toEqual(['pause', 'resume']);
  });
});

describe('peergrid-worker flags for the donor rules', () => {
  const base = ['--signal', 'ws://x'];
  const ok = (argv: string[]) => {
    const p = parseWorkerArgs([...base, ...argv], {});
    if (p.kind !== 'ok') throw new Error(p.kind === 'error' ? p.message : 'help');
    return p.options;
  };
  const err = (argv: string[]) => {
    const p = parseWorkerArgs([...base, ...argv], {});
    return p.kind === 'error' ? p.message : null;
  };

  it('reads --cpu-share in percent, --pause-above-load, --schedule and --on-pause', () => {
    const o = ok([
      '--cpu-share',
      '25',
      '--pause-above-load',
      '1.5',
      '--schedule',
      '22:00-07:00',
      '--on-pause',
      'hand-back',
    ]);
    expect(o).toMatchObject({ cpuShare: 0.25, pauseAboveLoad: 1.5, onPause: 'hand-back' });
    expect(o.schedule).toEqual([{ start: 22 * 60, end: 7 * 60 }]);
    expect(ok([])).toMatchObject({ cpuShare: 1, onPause: 'finish' });
    expect(ok([]).schedule).toBeUndefined();
  });

  it('refuses bad values with the flag named', () => {
    expect(err(['--cpu-share', '0'])).toMatch(/--cpu-share must be a percentage from 1 to 100/);
    expect(err(['--cpu-share', '150'])).toMatch(/--cpu-share/);
    expect(err(['--cpu-share', 'half'])).toMatch(/--cpu-share/);
    expect(err(['--pause-above-load', '0'])).toMatch(/--pause-above-load/);
    expect(err(['--schedule', '9-5'])).toMatch(/--schedule: '9-5' is not a window/);
    expect(err(['--on-pause', 'drop'])).toMatch(/--on-pause must be finish or hand-back/);
  });
});
