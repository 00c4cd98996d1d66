import {
  DEFAULT_POLICY,
  type JobEvent,
  type JobProgress,
  type ReputationRecord,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import {
  buildJobDetail,
  describeEvent,
  type JobViewInput,
  reputationScore,
} from '../src/grid/job-view-model.ts';
import { chartGeometry } from '../src/lib/chart.ts';
import { outputNames, resultsCsv, resultsJson, stackOutputs } from '../src/lib/export.ts';
import { formatBound } from '../src/lib/format.ts';
import { tensorImages } from '../src/lib/image-from-tensor.ts';
import { meshLayout } from '../src/lib/mesh-layout.ts';
import { parseRoute, routeHash } from '../src/lib/route.ts';
import type { JobResults } from '../src/state/runtime.ts';

describe('routes', () => {
  it('parses and prints every view', () => {
    for (const r of [
      { view: 'donate' },
      { view: 'submit' },
      { view: 'jobs' },
      { view: 'mesh' },
      { view: 'job', id: 'abc123' },
    ] as const) {
      expect(parseRoute(routeHash(r))).toEqual(r);
    }
    expect(parseRoute('')).toEqual({ view: 'donate' });
    expect(parseRoute('#/jobs/<script>')).toEqual({ view: 'jobs' });
  });
});

describe('chartGeometry', () => {
  it('maps cumulative counts into the box, up to now', () => {
    const g = chartGeometry(
      [
        [0, 0],
        [1000, 5],
        [2000, 10],
      ],
      4000,
      100,
      50,
      0,
    );
    expect(g).not.toBeNull();
    expect(g!.yMax).toBe(10);
    expect(g!.spanMs).toBe(4000);
    expect(g!.line.startsWith('M0.0,50.0')).toBe(true);
    expect(g!.line.endsWith('L100.0,0.0')).toBe(true);
    expect(g!.ratePerS).toBeCloseTo(2.5);
    expect(g!.area.endsWith('L100.0,50 L0.0,50 Z')).toBe(true);
    const done = chartGeometry(
      [
        [0, 0],
        [500, 1],
      ],
      500,
      100,
      50,
      0,
    );
    expect(done!.area.endsWith('L50.0,50 L0.0,50 Z')).toBe(true);
    expect(chartGeometry([], 0, 100, 50)).toBeNull();
  });
});

describe('meshLayout', () => {
  it('puts this tab in the middle and others around it', () => {
    const peers = [
      { id: 'b', self: false },
      { id: 'me', self: true },
      { id: 'a', self: false },
    ];
    const placed = meshLayout(peers, 200, 200);
    expect(placed[0]).toMatchObject({ item: { id: 'me' }, x: 100, y: 100 });
    const others = placed.slice(1);
    expect(others.map((p) => p.item.id)).toEqual(['a', 'b']);
    for (const p of others) expect(Math.hypot(p.x - 100, p.y - 100)).toBeCloseTo(64, 5);
  });
});

describe('exports', () => {
  const logits = (rows: number[][]) =>
    tensorFrom('float32', [rows.length, 3], new Float32Array(rows.flat()));
  const results: JobResults = {
    kind: 'mnist',
    tasks: [
      {
        taskId: 't0',
        inputs: {},
        outputs: {
          logits: logits([
            [0, 9, 0],
            [5, 0, 0],
          ]),
        },
        labels: [1, 2],
      },
      { taskId: 't1', inputs: {}, outputs: { logits: logits([[0, 0, 3]]) }, labels: [2] },
      { taskId: 't2', inputs: {}, outputs: null },
    ],
    total: 3,
    offset: 0,
  };
  it('writes predictions as CSV', () => {
    const lines = resultsCsv(results).trim().split('\r\n');
    expect(lines[0]).toBe('task,row,label,confidence,expected');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      't0,0,1',
      't0,1,0',
      't1,0,2',
    ]);
    expect(lines[2]!.endsWith(',2')).toBe(true);
  });
  it('stacks an output across tasks for NPY', () => {
    expect(outputNames(results)).toEqual(['logits']);
    const stacked = stackOutputs([
      results.tasks[0]!.outputs!.logits!,
      results.tasks[1]!.outputs!.logits!,
    ]);
    expect(stacked?.dims).toEqual([3, 3]);
    expect(Array.from(tensorValues(stacked!) as Float32Array).slice(6)).toEqual([0, 0, 3]);
    expect(
      stackOutputs([logits([[1, 2, 3]]), tensorFrom('float32', [1, 2], new Float32Array(2))]),
    ).toBeNull();
  });
  it('writes JSON with every task', () => {
    const j = JSON.parse(resultsJson('job1', results));
    expect(j.job).toBe('job1');
    expect(j.tasks).toHaveLength(3);
    expect(j.tasks[1].outputs.logits).toEqual({ dtype: 'float32', dims: [1, 3], data: [0, 0, 3] });
    expect(j.tasks[2].outputs).toBeNull();
  });
});

describe('tensorImages', () => {
  it('draws MNIST rows and colour NCHW images', () => {
    const digits = tensorFrom(
      'uint8',
      [2, 784],
      new Uint8Array(2 * 784).map((_, i) => (i % 784 === 0 ? 255 : 0)),
    );
    const imgs = tensorImages(digits);
    expect(imgs).toHaveLength(2);
    expect(imgs[0]).toMatchObject({ width: 28, height: 28 });
    expect(Array.from(imgs[1]!.rgba.slice(0, 8))).toEqual([255, 255, 255, 255, 0, 0, 0, 255]);
    const rgb = tensorFrom('float32', [1, 3, 1, 2], new Float32Array([-1, 1, 0, 0, 1, -1]));
    expect(Array.from(tensorImages(rgb)[0]!.rgba)).toEqual([0, 128, 255, 255, 255, 128, 0, 255]);
    // gray: the channel means (0 and 1), then min–max over the means
    const two = tensorFrom('float32', [1, 3, 1, 2], new Float32Array([0, 3, 0, 0, 0, 0]));
    const gray = Array.from(tensorImages(two, { gray: true })[0]!.rgba);
    expect(gray).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });
});

describe('job view wording', () => {
  const e = {
    jobId: 'j',
    seq: 3,
    at: 5,
    taskId: 'digits-001',
    donor: 'abcdefghijklmnop',
  } as const;
  it('describes events for people and scores reputation', () => {
    expect(describeEvent({ ...e, type: 'lease-issued' })).toEqual({
      at: 5,
      level: 'info',
      text: 'digits-001 → abcdef…mnop',
    });
    expect(describeEvent({ ...e, type: 'lease-issued', audit: true }).text).toBe(
      'digits-001 → abcdef…mnop · audit',
    );
    expect(describeEvent({ ...e, type: 'task-failed', message: '5 attempts' }).level).toBe('error');
    expect(describeEvent({ ...e, type: 'task-disputed' }).text).toMatch(/disagree/);
    const rec: ReputationRecord = {
      peerId: 'p',
      agreements: 8,
      disagreements: 0,
      audited: 8,
      losses: 0,
      witnesses: [],
      excluded: false,
      creditMs: 0,
    };
    expect(reputationScore(rec)).toBeCloseTo(0.9);
    expect(reputationScore({ ...rec, excluded: true, excludedReason: 'lied' })).toBe(0);
  });
  it('describes the audit, finality and task transitions', () => {
    const text = (x: Partial<JobEvent> & Pick<JobEvent, 'type'>) => describeEvent({ ...e, ...x });
    expect(text({ type: 'audit-passed' })).toMatchObject({
      level: 'info',
      text: 'audit of digits-001 by abcdef…mnop agreed with the other results',
    });
    expect(text({ type: 'audit-failed' })).toMatchObject({
      level: 'warn',
      text: 'audit of digits-001 by abcdef…mnop found a disagreement',
    });
    expect(text({ type: 'task-final', bound: 6.1e-5 }).text).toBe(
      'digits-001 final, error bound 6.1e-5',
    );
    expect(text({ type: 'task-running', state: 'running' }).text).toBe('digits-001 running');
    expect(text({ type: 'task-blocked', state: 'blocked', message: 'input changed' }).text).toMatch(
      /inputs again \(input changed\)/,
    );
    expect(text({ type: 'lease-verdict', verdict: 'rejected' }).level).toBe('warn');
    expect(text({ type: 'donor-excluded', message: 'contradicted an anchor' }).text).toBe(
      'abcdef…mnop excluded (contradicted an anchor)',
    );
  });
  it('formats error bounds', () => {
    expect(formatBound(1e-4)).toBe('1e-4');
    expect(formatBound(6.1e-5)).toBe('6.1e-5');
    expect(formatBound(0)).toBe('0');
    expect(formatBound(0.25)).toBe('2.5e-1');
    expect(formatBound(Number.NaN)).toBe('—');
  });
});

describe('job view model', () => {
  const progress = (over: Partial<JobProgress> = {}): JobProgress => ({
    jobId: 'j',
    state: 'running',
    total: 3,
    tasks: { blocked: 0, ready: 0, running: 1, verified: 2, failed: 0 },
    retired: 0,
    leasesInFlight: 1,
    resultsReceived: 5,
    audits: { issued: 0, passed: 0, failed: 0 },
    targetError: 1e-4,
    achievedError: 4e-5,
    final: 2,
    anchors: { donors: ['me'], results: 0 },
    excluded: [],
    disputes: 1,
    reopened: 0,
    soloAccepted: 0,
    donors: [],
    failed: [],
    ...over,
  });
  let seq = 0;
  const ev = (type: JobEvent['type'], x: Partial<JobEvent> = {}): JobEvent => ({
    jobId: 'j',
    seq: ++seq,
    at: seq,
    type,
    ...x,
  });
  const blank = (peerId: string): ReputationRecord => ({
    peerId,
    agreements: 0,
    disagreements: 0,
    audited: 0,
    losses: 0,
    witnesses: [],
    excluded: false,
    creditMs: 0,
  });
  const input = (events: JobEvent[], p = progress()): JobViewInput => ({
    jobId: 'j',
    name: 'job',
    kind: 'custom',
    createdAt: 0,
    policy: DEFAULT_POLICY,
    cells: [
      { id: 't0', state: 'verified' },
      { id: 't1', state: 'verified' },
      { id: 't2', state: 'running' },
    ],
    allTasks: true,
    counts: { blocked: 0, ready: 0, running: 1, verified: 2, failed: 0 },
    progress: p,
    events,
    reputation: (id) =>
      id === 'old' ? { ...blank(id), excluded: true, excludedReason: 'lied before' } : blank(id),
    isAnchor: (id) => id === 'me',
  });

  it('folds audits, anchors and exclusions from the whole log, and leaves verdicts out of it', () => {
    const events = [
      ev('job-started'),
      ev('lease-issued', { taskId: 't0', donor: 'a', leaseId: 'l1' }),
      ev('lease-issued', { taskId: 't0', donor: 'liar', leaseId: 'l2', audit: true }),
      ev('lease-issued', { taskId: 't1', donor: 'b', leaseId: 'l3', audit: true }),
      ev('lease-reported', { taskId: 't0', donor: 'a', leaseId: 'l1' }),
      ev('lease-reported', { taskId: 't0', donor: 'liar', leaseId: 'l2' }),
      ev('lease-reported', { taskId: 't0', donor: 'me', leaseId: 'l4' }),
      ev('lease-reported', { taskId: 't1', donor: 'me', leaseId: 'l5' }),
      ev('lease-verdict', { taskId: 't0', donor: 'liar', leaseId: 'l2', verdict: 'rejected' }),
      ev('audit-failed', { taskId: 't0', donor: 'liar' }),
      ev('audit-passed', { taskId: 't1', donor: 'b' }),
      ev('donor-excluded', { donor: 'liar', message: 'contradicted an anchor, last on task t0' }),
      ev('donor-excluded', { donor: 'x', message: 'outvoted' }),
      ev('donor-reinstated', { donor: 'x' }),
      ev('task-verified', { taskId: 't0', state: 'verified', bound: 0, backers: 2 }),
      ev('task-verified', { taskId: 't1', state: 'verified', bound: 0, backers: 1 }),
    ];
    const p = progress({
      donors: [
        {
          id: 'old',
          backend: 'wasm',
          inFlight: 0,
          reported: 0,
          trusted: false,
          excluded: true,
          anchor: false,
          audited: 0,
          creditMs: 0,
        },
      ],
    });
    const d = buildJobDetail(input(events, p));
    expect(d.audits).toEqual({ issued: 2, passed: 1, failed: 1 });
    expect(d.anchors).toEqual([{ id: 'me', results: 2 }]);
    expect(d.excludedDonors).toEqual([
      { donor: 'liar', reason: 'contradicted an anchor, last on task t0' },
      { donor: 'old', reason: 'lied before' },
    ]);
    expect(d.excluded).toBe(2);
    expect(d.donors.find((x) => x.id === 'me')?.anchor).toBe(true);
    expect(d.donors.find((x) => x.id === 'a')?.anchor).toBe(false);
    expect([d.targetError, d.achievedError, d.final, d.total]).toEqual([1e-4, 4e-5, 2, 3]);
    expect(d.tasks.map((t) => t.leases)).toEqual([2, 1, 0]);
    expect(d.events).toHaveLength(events.length - 1);
    expect(d.events.some((x) => /rejected/.test(x.text))).toBe(false);
  });

  it('counts a verified task leaving verified down in the throughput, whatever the event', () => {
    const events = [
      ev('job-started'),
      ev('task-verified', { taskId: 't0', state: 'verified' }),
      ev('task-verified', { taskId: 't1', state: 'verified' }),
      ev('task-reopened', { taskId: 't0', state: 'running' }),
      ev('task-blocked', { taskId: 't1', state: 'blocked' }),
      ev('task-ready', { taskId: 't1', state: 'ready' }),
      ev('task-verified', { taskId: 't0', state: 'verified' }),
    ];
    const d = buildJobDetail(input(events));
    expect(d.throughput.map(([, n]) => n)).toEqual([0, 1, 2, 1, 0, 1]);
    // No result accepted yet: no bound to show (the engine says 0).
    const none = {
      ...input([], progress({ achievedError: 0 })),
      cells: [],
      counts: { blocked: 0, ready: 3, running: 0, verified: 0, failed: 0 },
    };
    expect(buildJobDetail(none).achievedError).toBeNull();
  });
});
