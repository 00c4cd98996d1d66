import { tensorFrom, tensorValues } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { describeEvent, reputationScore } from '../src/grid/job-view-model.ts';
import { chartGeometry } from '../src/lib/chart.ts';
import { outputNames, resultsCsv, resultsJson, stackOutputs } from '../src/lib/export.ts';
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
  it('describes events for people and scores reputation', () => {
    const e = {
      jobId: 'j',
      seq: 3,
      at: 5,
      taskId: 'digits-001',
      donor: 'abcdefghijklmnop',
    } as const;
    expect(describeEvent({ ...e, type: 'lease-issued' })).toEqual({
      at: 5,
      level: 'info',
      text: 'digits-001 → abcdef…mnop',
    });
    expect(describeEvent({ ...e, type: 'task-failed', message: '5 attempts' }).level).toBe('error');
    expect(describeEvent({ ...e, type: 'task-disputed' }).text).toMatch(/disagree/);
    const rec = {
      peerId: 'p',
      agreements: 8,
      disagreements: 0,
      spotPassed: 0,
      streak: 8,
      excluded: false,
      creditMs: 0,
    };
    expect(reputationScore(rec)).toBeCloseTo(0.9);
    expect(reputationScore({ ...rec, excluded: true })).toBe(0);
  });
});
