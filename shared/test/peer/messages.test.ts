import { describe, expect, it } from 'vitest';
import {
  decodePeerMessage,
  encodeFrame,
  encodePeerMessage,
  type PeerMessage,
  parsePeerMessage,
  tensorFrom,
} from '../../src/index.ts';

const H = 'ab'.repeat(32);
const x = tensorFrom('float32', [2], new Float32Array([1.5, -2]));
const y = tensorFrom('int64', [1], new BigInt64Array([7n]));

const samples: PeerMessage[] = [
  {
    type: 'assign',
    leaseId: 'l',
    jobId: 'j',
    modelHash: H,
    modelBytes: 10,
    feeds: { x, y },
    deadlineMs: 500,
    backend: 'cpu',
    outputs: ['out'],
  },
  {
    type: 'assign',
    leaseId: 'l',
    jobId: 'j',
    modelHash: H,
    modelBytes: 0,
    feeds: {},
    deadlineMs: 1,
  },
  { type: 'ack', leaseId: 'l' },
  { type: 'progress', leaseId: 'l', state: 'running' },
  { type: 'result', leaseId: 'l', outputs: { out: x }, digest: H, computeMs: 3.5, backend: 'wasm' },
  { type: 'error', leaseId: 'l', error: { code: 'bad-input', message: 'no' } },
  { type: 'cancel', leaseId: 'l' },
  { type: 'have', hashes: [H] },
  { type: 'want', hash: H, offset: 0, length: 100 },
  { type: 'chunk', hash: H, offset: 4, total: 10, data: new Uint8Array([1, 2, 3]) },
  { type: 'blob-missing', hash: H, offset: 0 },
  { type: 'ping', seq: 1, load: { running: 1, queued: 0, capacity: 4 } },
  { type: 'pong', seq: 2 },
];

describe('peer messages', () => {
  it('round-trip through frames, tensors included', () => {
    for (const msg of samples) expect(decodePeerMessage(encodePeerMessage(msg))).toEqual(msg);
  });

  it('reject wrong types, missing fields and bad values', () => {
    const bad: unknown[] = [
      null,
      42,
      [],
      { type: 'nope' },
      { type: 'ack' },
      { type: 'ack', leaseId: '' },
      { type: 'ack', leaseId: 'x'.repeat(129) },
      { type: 'progress', leaseId: 'l', state: 'dancing' },
      { type: 'error', leaseId: 'l', error: 'boom' },
      { type: 'have', hashes: ['not-a-hash'] },
      { type: 'want', hash: H, offset: -1, length: 5 },
      { type: 'want', hash: H, offset: 0, length: 0 },
      { type: 'want', hash: H, offset: 0.5, length: 5 },
      { type: 'ping', seq: 1, load: { running: 'a' } },
      { type: 'ping' },
      { type: 'result', leaseId: 'l', outputs: {}, digest: H, computeMs: 1, backend: 'quantum' },
      { type: 'result', leaseId: 'l', outputs: {}, digest: 'short', computeMs: 1, backend: 'cpu' },
      {
        type: 'assign',
        leaseId: 'l',
        jobId: 'j',
        modelHash: H,
        modelBytes: 1,
        feeds: {},
        deadlineMs: 0,
      },
      {
        type: 'assign',
        leaseId: 'l',
        jobId: 'j',
        modelHash: H,
        modelBytes: -1,
        feeds: {},
        deadlineMs: 5,
      },
    ];
    for (const h of bad) expect(parsePeerMessage(h)).toBeNull();
  });

  it('rejects tensor references that are missing, reused or of the wrong kind', () => {
    const assign = {
      type: 'assign',
      leaseId: 'l',
      jobId: 'j',
      modelHash: H,
      modelBytes: 1,
      deadlineMs: 5,
    };
    expect(parsePeerMessage({ ...assign, feeds: { a: 0 } }, [x])).not.toBeNull();
    expect(parsePeerMessage({ ...assign, feeds: { a: 1 } }, [x])).toBeNull();
    expect(parsePeerMessage({ ...assign, feeds: { a: 0, b: 0 } }, [x])).toBeNull();
    expect(parsePeerMessage({ ...assign, feeds: { a: 'x' } }, [x])).toBeNull();
    const chunk = { type: 'chunk', hash: H, offset: 0, total: 8, data: 0 };
    expect(parsePeerMessage(chunk, [x])).toBeNull(); // float32, not bytes
    const bytes = tensorFrom('uint8', [9], new Uint8Array(9));
    expect(parsePeerMessage(chunk, [bytes])).toBeNull(); // past `total`
  });

  it('does not let a __proto__ feed name touch prototypes', () => {
    const frame = encodeFrame(
      {
        type: 'assign',
        leaseId: 'l',
        jobId: 'j',
        modelHash: H,
        modelBytes: 1,
        deadlineMs: 5,
        feeds: JSON.parse('{"__proto__": 0}'),
      },
      [x],
    );
    const msg = decodePeerMessage(frame);
    expect(msg?.type).toBe('assign');
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
  });
});
