import { describe, expect, it } from 'vitest';
import {
  findFeedProblems,
  findJobFeedProblems,
  jobFeedProblemsText,
  type NamedFeeds,
} from '../../src/feeds/check-feeds.ts';
import {
  type DeclaredInput,
  declaredDim,
  ORT_WEB_DYNAMIC_DIM,
} from '../../src/feeds/declared-input.ts';
import { type DType, tensorFrom } from '../../src/tensor.ts';

const t = (dtype: DType, dims: number[]) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const arrays = {
    float32: Float32Array,
    float64: Float64Array,
    int32: Int32Array,
    int64: BigInt64Array,
    uint8: Uint8Array,
    int8: Int8Array,
    bool: Uint8Array,
  };
  return tensorFrom(dtype, dims, new arrays[dtype](n));
};

/** An encoder: two int64 tensors sharing `batch`, an unnamed dynamic dim, and a scalar. */
const encoder: DeclaredInput[] = [
  { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
  { name: 'attention_mask', dtype: 'int64', shape: ['batch', null] },
  { name: 'offset', dtype: 'int64', shape: [] },
];
const codes = (inputs: DeclaredInput[], feeds: Parameters<typeof findFeedProblems>[1]) =>
  findFeedProblems(inputs, feeds).map((p) => p.code);

describe('feed check', () => {
  it('accepts feeds that fit, whatever size the dynamic dims take', () => {
    for (const [b, s, m] of [
      [1, 512, 512],
      [4, 7, 3],
    ] as const) {
      const feeds = {
        input_ids: t('int64', [b, s]),
        attention_mask: t('int64', [b, m]),
        offset: t('int64', []),
      };
      expect(findFeedProblems(encoder, feeds)).toEqual([]);
    }
  });

  it('reads every way a runtime writes a dynamic dim', () => {
    expect([ORT_WEB_DYNAMIC_DIM, -1, '', undefined, 'batch', 3, 0n + 5n].map(declaredDim)).toEqual([
      null,
      null,
      null,
      null,
      'batch',
      3,
      5,
    ]);
    // The Submit view's bug: onnxruntime-web's 4294967295 taken for a fixed size.
    const web: DeclaredInput[] = [
      {
        name: 'input',
        dtype: 'float32',
        shape: [ORT_WEB_DYNAMIC_DIM, ORT_WEB_DYNAMIC_DIM].map(declaredDim),
      },
    ];
    expect(findFeedProblems(web, { input: t('float32', [1, 512]) })).toEqual([]);
  });

  it('lists every problem at once', () => {
    const problems = findFeedProblems(encoder, {
      input_ids: t('int32', [2, 5]),
      attention_mask: t('int64', [2]),
      extra: t('float32', [1]),
      more: t('float32', [1]),
    });
    expect(problems.map((p) => p.message)).toEqual([
      'input "input_ids" must be int64, got int32',
      'input "attention_mask" must have shape [batch, ?], got [2]',
      'model input "offset" is missing (given: input_ids, attention_mask, extra, more)',
      'the model has no input named "extra", "more" (its inputs: input_ids, attention_mask, offset)',
    ]);
    expect(problems.map((p) => p.code)).toEqual([
      'feed-dtype',
      'feed-shape',
      'missing-feed',
      'unknown-feed',
    ]);
  });

  it('holds a symbolic dim to one size across the inputs of a task', () => {
    const problems = findFeedProblems(encoder, {
      input_ids: t('int64', [2, 5]),
      attention_mask: t('int64', [3, 5]),
      offset: t('int64', []),
    });
    expect(problems).toEqual([
      {
        code: 'dim-mismatch',
        message: 'dim "batch" is 2 in "input_ids" but 3 in "attention_mask"',
      },
    ]);
    // A symbolic dim used twice in one input, too.
    const square: DeclaredInput[] = [{ name: 'm', dtype: 'float32', shape: ['n', 'n'] }];
    expect(codes(square, { m: t('float32', [2, 3]) })).toEqual(['dim-mismatch']);
    expect(codes(square, { m: t('float32', [3, 3]) })).toEqual([]);
  });

  it('checks fixed dims and rank, and takes any shape when the model gives none', () => {
    const fixed: DeclaredInput[] = [{ name: 'x', dtype: 'float32', shape: [1, 3] }];
    expect(codes(fixed, { x: t('float32', [1, 3]) })).toEqual([]);
    expect(codes(fixed, { x: t('float32', [1, 4]) })).toEqual(['feed-shape']);
    expect(codes(fixed, { x: t('float32', [1, 3, 1]) })).toEqual(['feed-shape']);
    const any: DeclaredInput[] = [{ name: 'x', dtype: 'float32', shape: null }];
    expect(codes(any, { x: t('float32', [7, 1, 2]) })).toEqual([]);
  });

  it('leaves out optional inputs, and names types no tensor can have', () => {
    const inputs: DeclaredInput[] = [
      { name: 'x', dtype: 'float32', shape: null },
      { name: 'bias', dtype: 'float32', shape: [3], optional: true },
      { name: 'half', dtype: 'float16', shape: [1] },
    ];
    const problems = findFeedProblems(inputs, { x: t('float32', [1]) });
    expect(problems.map((p) => p.code)).toEqual(['unsupported-input']);
    expect(problems[0]?.message).toMatch(/^input "half" is float16, which PeerGrid cannot carry/);
    expect(codes(inputs.slice(0, 2), { x: t('float32', [1]), bias: t('float32', [4]) })).toEqual([
      'feed-shape',
    ]);
  });
});

describe('job feed check', () => {
  it('lists the tasks with problems, one line for the same problems in many', () => {
    const inputs: DeclaredInput[] = [{ name: 'x', dtype: 'float32', shape: ['n', 2] }];
    const tasks: NamedFeeds[] = [
      { id: 'a', feeds: { x: t('float32', [1, 2]) } },
      ...['b', 'c', 'd', 'e'].map((id) => ({ id, feeds: { x: t('int32', [1, 2]) } })),
      { id: 'f', feeds: { y: t('float32', [1, 2]) } },
    ];
    const list = findJobFeedProblems(inputs, tasks);
    expect(list.map((p) => p.id)).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect(jobFeedProblemsText(list)).toBe(
      [
        '4 tasks (b, c, d, …): input "x" must be float32, got int32',
        'task f: model input "x" is missing (given: y); the model has no input named "y" (its inputs: x)',
      ].join('\n'),
    );
    expect(jobFeedProblemsText(list, { maxTasks: 1, noun: 'file' })).toBe(
      [
        '4 files (b, c, d, …): input "x" must be float32, got int32',
        '… and 1 more files with problems',
      ].join('\n'),
    );
  });
});
