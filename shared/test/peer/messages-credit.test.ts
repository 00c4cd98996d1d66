import { describe, expect, it } from 'vitest';
import {
  type CreditMessage,
  decodePeerMessage,
  decodePeerMessages,
  encodeBatchParts,
  encodeFrame,
  encodePeerMessage,
  joinFrameParts,
  PEER_MESSAGE_LIMITS,
  PEER_MESSAGE_TYPES,
  parsePeerMessage,
} from '../../src/index.ts';

const ok: CreditMessage = {
  type: 'credit',
  jobId: 'j',
  session: 's1',
  accepted: 12,
  verifiedMs: 345.5,
  rejected: 1,
};

describe('credit message', () => {
  it('round-trips alone and in a batch, and is a listed type', () => {
    expect(decodePeerMessage(encodePeerMessage(ok))).toEqual(ok);
    const zero: CreditMessage = { ...ok, accepted: 0, verifiedMs: 0, rejected: 0 };
    const batch = decodePeerMessages(joinFrameParts(encodeBatchParts([ok, zero])));
    expect(batch?.messages).toEqual([ok, zero]);
    expect(PEER_MESSAGE_TYPES).toContain('credit');
  });

  it('drops malformed totals', () => {
    const bad: unknown[] = [
      { ...ok, jobId: '' },
      { ...ok, session: undefined },
      { ...ok, session: 'x'.repeat(PEER_MESSAGE_LIMITS.maxIdLength + 1) },
      { ...ok, accepted: -1 },
      { ...ok, accepted: 1.5 },
      { ...ok, rejected: '2' },
      { ...ok, accepted: PEER_MESSAGE_LIMITS.maxCreditCount + 1 },
      { ...ok, verifiedMs: -0.5 },
      { ...ok, verifiedMs: Number.NaN },
      { ...ok, verifiedMs: PEER_MESSAGE_LIMITS.maxCreditTotalMs + 1 },
    ];
    for (const h of bad) expect(parsePeerMessage(h)).toBeNull();
    expect(decodePeerMessage(encodeFrame({ ...ok, verifiedMs: Infinity }))).toBeNull();
  });

  it('keeps only the declared fields', () => {
    expect(parsePeerMessage({ ...ok, leaseIds: ['l1'], extra: 1 })).toEqual(ok);
  });
});
