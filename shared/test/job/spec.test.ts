import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/job/compare.ts';
import { type JobSpec, jobIdOf, validateJob, verifyJobHashes } from '../../src/job/spec.ts';
import { i32, sha256, specOf } from './helpers.ts';

const codes = (spec: JobSpec) => validateJob(spec).map((e) => e.code);

describe('job spec', () => {
  it('accepts a valid DAG', () => {
    const spec = specOf([
      { id: 'a', model: 'm', feeds: { x: { tensor: i32(1) } } },
      { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
    ]);
    expect(validateJob(spec)).toEqual([]);
  });

  it('refuses cycles, dangling references, unknown models and blobs, duplicates, an empty job', () => {
    const cyc = specOf([
      { id: 'a', model: 'm', feeds: { x: { fromTask: 'c', output: 'y' } } },
      { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
      { id: 'c', model: 'm', feeds: { x: { fromTask: 'b', output: 'y' } } },
    ]);
    const errs = validateJob(cyc);
    expect(errs.map((e) => e.code)).toEqual(['cycle']);
    expect(errs[0]!.message).toMatch(/a -> c -> b -> a|c -> b -> a -> c|b -> a -> c -> b/);
    expect(
      codes(specOf([{ id: 'a', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } }])),
    ).toEqual(['cycle']);
    expect(
      codes(specOf([{ id: 'a', model: 'm', feeds: { x: { fromTask: 'zz', output: 'y' } } }])),
    ).toEqual(['dangling-reference']);
    expect(codes(specOf([{ id: 'a', model: 'nope', feeds: {} }]))).toEqual(['unknown-model']);
    expect(codes(specOf([{ id: 'a', model: 'm', feeds: { x: { blob: 'ab' } } }]))).toEqual([
      'unknown-blob',
    ]);
    expect(
      codes(
        specOf([
          { id: 'a', model: 'm', feeds: {} },
          { id: 'a', model: 'm', feeds: {} },
        ]),
      ),
    ).toEqual(['duplicate-task']);
    expect(codes(specOf([]))).toEqual(['empty-job']);
    const badTensor = { dtype: 'float32' as const, dims: [3], data: new Uint8Array(4) };
    expect(codes(specOf([{ id: 'a', model: 'm', feeds: { x: { tensor: badTensor } } }]))).toEqual([
      'bad-tensor',
    ]);
  });

  it('refuses a policy that cannot work', () => {
    expect(
      codes(specOf([{ id: 'a', model: 'm', feeds: {} }], { quorum: 3, replicas: 2 })),
    ).toContain('bad-policy');
    expect(codes(specOf([{ id: 'a', model: 'm', feeds: {} }], { maxReplicas: 1 }))).toContain(
      'bad-policy',
    );
    expect(codes(specOf([{ id: 'a', model: 'm', feeds: {} }], { auditRate: 1 }))).toContain(
      'bad-policy',
    );
  });

  it('derives the same id from the same content, another from other content or a key', async () => {
    const a = specOf([{ id: 'a', model: 'm', feeds: { x: { tensor: i32(1) } } }]);
    const same = specOf([{ id: 'a', model: 'm', feeds: { x: { tensor: i32(1) } } }]);
    const other = specOf([{ id: 'a', model: 'm', feeds: { x: { tensor: i32(2) } } }]);
    const id = await jobIdOf(a, sha256);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await jobIdOf(same, sha256)).toBe(id);
    expect(await jobIdOf(other, sha256)).not.toBe(id);
    const keyed = await jobIdOf({ ...a, idempotencyKey: 'k1' }, sha256);
    expect(await jobIdOf({ ...other, idempotencyKey: 'k1' }, sha256)).toBe(keyed);
  });

  it('checks content hashes of models and blobs', async () => {
    const model = new Uint8Array([1, 2, 3]);
    const t = i32(5);
    const good: JobSpec = {
      models: { [await sha256(model)]: model },
      blobs: { [await sha256(canonicalBytes(t))]: t },
      tasks: [],
    };
    expect(await verifyJobHashes(good, sha256)).toEqual([]);
    const bad: JobSpec = { models: { abc: model }, blobs: { def: t }, tasks: [] };
    expect((await verifyJobHashes(bad, sha256)).map((e) => e.code)).toEqual([
      'hash-mismatch',
      'hash-mismatch',
    ]);
  });
});
