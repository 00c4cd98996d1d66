import { DEFAULT_POLICY, tensorFrom, tensorValues } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import {
  checkUploads,
  feedsPerFile,
  imageTarget,
  parseInputFile,
  UPLOAD_LIMITS,
} from '../src/lib/custom-job.ts';
import { checkFeeds } from '../src/lib/feed-check.ts';
import { fitSize, rgbaToTensor } from '../src/lib/image-tensor.ts';
import { encodeNpy } from '../src/lib/npy.ts';
import { policyFromForm, TRUST_FORM_DEFAULTS } from '../src/lib/policy-form.ts';
import { mnistTasks } from '../src/lib/samples.ts';

const spec = [{ name: 'x', type: 'float32', shape: ['n', 4] as (string | number)[] }];

describe('checkFeeds', () => {
  it('accepts fitting feeds and symbolic dims', () => {
    expect(checkFeeds(spec, { x: tensorFrom('float32', [3, 4], new Float32Array(12)) })).toBeNull();
  });
  it('names what does not fit', () => {
    expect(checkFeeds(spec, {})).toMatch(/"x" is missing/);
    expect(checkFeeds(spec, { x: tensorFrom('int32', [1, 4], new Int32Array(4)) })).toMatch(
      /must be float32, got int32/,
    );
    expect(checkFeeds(spec, { x: tensorFrom('float32', [1, 5], new Float32Array(5)) })).toMatch(
      /shape \[n, 4\], got \[1, 5\]/,
    );
    const extra = {
      x: tensorFrom('float32', [1, 4], new Float32Array(4)),
      y: tensorFrom('float32', [1], new Float32Array(1)),
    };
    expect(checkFeeds(spec, extra)).toMatch(/no input named "y"/);
  });
});

describe('custom job inputs', () => {
  it('rejects oversized and unknown files before reading them', () => {
    expect(checkUploads(null, [])).toMatch(/Choose an ONNX model/);
    expect(
      checkUploads({ name: 'm.onnx', size: UPLOAD_LIMITS.maxModelBytes + 1 }, [
        { name: 'a.npy', size: 1 },
      ]),
    ).toMatch(/over the 64 MiB limit for models/);
    expect(checkUploads({ name: 'm.onnx', size: 10 }, [{ name: 'a.txt', size: 1 }])).toMatch(
      /not .npy, .npz, .json or an image/,
    );
    expect(
      checkUploads({ name: 'm.onnx', size: 10 }, [
        { name: 'a.npy', size: UPLOAD_LIMITS.maxInputBytes + 1 },
      ]),
    ).toMatch(/"a.npy" \(32 MiB\) is over the 32 MiB limit/);
    expect(checkUploads({ name: 'm.onnx', size: 10 }, [{ name: 'a.npy', size: 10 }])).toBeNull();
  });
  it('makes one task per file for a single-input model', () => {
    const npy = encodeNpy(tensorFrom('float32', [2, 4], new Float32Array(8).fill(1)));
    const a = parseInputFile('a.npy', npy, 'x');
    const b = parseInputFile('b.json', new TextEncoder().encode('[[1,2,3,4]]'), 'x');
    if (!a.ok || !b.ok) throw new Error('parse failed');
    const feeds = feedsPerFile(spec, [a.value, b.value]);
    expect(feeds.ok).toBe(true);
    if (feeds.ok)
      expect(feeds.value.map((f) => f.x?.dims)).toEqual([
        [2, 4],
        [1, 4],
      ]);
  });
  it('explains inputs that do not fit the model', () => {
    const wrong = parseInputFile('w.json', new TextEncoder().encode('[[1,2,3]]'), 'x');
    if (!wrong.ok) throw new Error('parse failed');
    const r = feedsPerFile(spec, [wrong.value]);
    expect(r.ok ? '' : r.error).toMatch(/^file w.json: input "x" must have shape/);
    const two = [...spec, { name: 'y', type: 'float32', shape: [1] }];
    const r2 = feedsPerFile(two, [wrong.value]);
    expect(r2.ok ? '' : r2.error).toMatch(
      /2 inputs \(x, y\); give them as an .npz or a JSON object/,
    );
    const bad = parseInputFile('bad.npy', new Uint8Array([1, 2, 3]), 'x');
    expect(bad.ok ? '' : bad.error).toBe('bad.npy: not a .npy file (bad magic)');
  });
  it('derives image sizes from a [1, C, H, W] input', () => {
    expect(imageTarget({ name: 'i', type: 'float32', shape: [1, 1, 28, 28] })).toEqual({
      channels: 1,
      height: 28,
      width: 28,
    });
    expect(imageTarget({ name: 'i', type: 'float32', shape: [1, 3, 'h', 'w'] })).toEqual({
      channels: 3,
    });
    expect(imageTarget({ name: 'i', type: 'uint8', shape: [1, 784] })).toBeNull();
  });
});

describe('image tensors', () => {
  it('turns RGBA into normalised NCHW, BGR when asked', () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]); // red, blue
    const t = rgbaToTensor(rgba, 2, 1, {
      channels: 3,
      bgr: true,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
    expect(t.dims).toEqual([1, 3, 1, 2]);
    // channel 0 = blue: [-1, 1]; channel 2 = red: [1, -1]
    expect(Array.from(tensorValues(t) as Float32Array)).toEqual([-1, 1, -1, -1, 1, -1]);
    const gray = rgbaToTensor(rgba, 2, 1, { channels: 1, invert: true });
    expect(Array.from(tensorValues(gray) as Float32Array).map((v) => v.toFixed(3))).toEqual([
      '0.667',
      '0.667',
    ]);
  });
  it('fits detector sizes to multiples of 32', () => {
    expect(fitSize(480, 162, 640)).toEqual({ width: 480, height: 160 });
    expect(fitSize(1920, 1080, 640)).toEqual({ width: 640, height: 352 });
    expect(fitSize(10, 10, 640)).toEqual({ width: 32, height: 32 });
  });
});

describe('policyFromForm', () => {
  const base = {
    replicas: '2',
    quorum: '2',
    compare: 'exact' as const,
    tolerance: '0.01',
    axis: '1',
    deadlineS: '30',
    ...TRUST_FORM_DEFAULTS,
  };
  const peer = (c: string) => c.repeat(32);
  it('starts from the engine defaults', () => {
    expect(TRUST_FORM_DEFAULTS).toEqual({
      maxReplicas: '20',
      targetError: '1e-4',
      auditPercent: '10',
      anchorPercent: '10',
      trustedDonors: '',
    });
    const r = policyFromForm(base);
    if (!r.ok) throw new Error(r.error);
    const { targetError, auditRate, anchorShare, maxReplicas, trustedDonors } = DEFAULT_POLICY;
    expect(r.policy).toMatchObject({
      targetError,
      auditRate,
      anchorShare,
      maxReplicas,
      trustedDonors,
    });
  });
  it('builds a policy', () => {
    expect(
      policyFromForm({
        ...base,
        maxReplicas: '12',
        targetError: '0.001',
        auditPercent: '25',
        anchorPercent: '0',
        trustedDonors: `${peer('a')}\n${peer('b')}, ${peer('a')} ,\n`,
      }),
    ).toEqual({
      ok: true,
      policy: {
        replicas: 2,
        quorum: 2,
        maxReplicas: 12,
        compare: { kind: 'exact' },
        taskDeadlineMs: 30_000,
        targetError: 0.001,
        auditRate: 0.25,
        anchorShare: 0,
        trustedDonors: [peer('a'), peer('b')],
      },
    });
    const tol = policyFromForm({ ...base, compare: 'tolerance', tolerance: '0.05' });
    expect(tol.ok && tol.policy.compare).toEqual({ kind: 'tolerance', abs: 0.05, rel: 0.05 });
    const am = policyFromForm({ ...base, compare: 'argmax', axis: '-1' });
    expect(am.ok && am.policy.compare).toEqual({ kind: 'argmax', axis: -1 });
  });
  it('refuses what the engine would refuse, in words', () => {
    const err = (f: Partial<typeof base>) => {
      const r = policyFromForm({ ...base, ...f });
      return r.ok ? 'ok' : r.error;
    };
    expect(err({ quorum: '3' })).toMatch(/Quorum/);
    expect(err({ replicas: '0' })).toMatch(/Replicas/);
    expect(err({ deadlineS: '-1' })).toMatch(/deadline/);
    expect(err({ maxReplicas: '1' })).toMatch(/Max replicas .* from the replicas \(2\)/);
    expect(err({ maxReplicas: '2.5' })).toMatch(/Max replicas/);
    for (const t of ['0', '1', '', 'abc', '-1e-4', '2'])
      expect(err({ targetError: t })).toMatch(/target error must be a number above 0 and below 1/);
    expect(err({ targetError: ' 3e-5 ' })).toBe('ok');
    expect(err({ auditPercent: '100' })).toMatch(/audit rate must be a percentage/);
    expect(err({ auditPercent: '-5' })).toMatch(/audit rate/);
    expect(err({ anchorPercent: '' })).toMatch(/anchor share must be a percentage/);
    expect(err({ trustedDonors: `${peer('a')}, not-a-peer` })).toMatch(
      /Trusted donors: "not-a-peer" is not a peer id/,
    );
  });
});

describe('mnistTasks', () => {
  it('batches digits with their labels', () => {
    const pixels = tensorFrom(
      'uint8',
      [5, 784],
      new Uint8Array(5 * 784).map((_, i) => Math.floor(i / 784)),
    );
    const labels = tensorFrom('uint8', [5], new Uint8Array([7, 2, 1, 0, 4]));
    const r = mnistTasks('h', pixels, labels, 5, 2);
    expect(r.tasks.map((t) => t.id)).toEqual(['digits-000', 'digits-001', 'digits-002']);
    const last = r.tasks[2]!.feeds.pixels!;
    expect('tensor' in last && last.tensor.dims).toEqual([1, 784]);
    expect('tensor' in last && last.tensor.data[0]).toBe(4);
    expect(r.labels).toEqual({ 'digits-000': [7, 2], 'digits-001': [1, 0], 'digits-002': [4] });
  });
});
