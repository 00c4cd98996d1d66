import { describe, expect, it } from 'vitest';
import {
  decodePeerMessage,
  encodeFrame,
  encodePeerMessage,
  PEER_MESSAGE_LIMITS,
  PEER_MESSAGE_TYPES,
  parsePeerMessage,
  type VerdictMessage,
} from '../../src/index.ts';

const ok: VerdictMessage = {
  type: 'verdict',
  leaseId: 'l1',
  jobId: 'j',
  verdict: 'accepted',
  creditMs: 12.5,
};

describe('verdict message', () => {
  it('round-trips accepted and rejected verdicts and is a listed type', () => {
    const rejected: VerdictMessage = { ...ok, verdict: 'rejected', creditMs: 0 };
    for (const msg of [ok, rejected])
      expect(decodePeerMessage(encodePeerMessage(msg))).toEqual(msg);
    expect(PEER_MESSAGE_TYPES).toContain('verdict');
  });

  it('drops malformed verdicts', () => {
    const bad: unknown[] = [
      { ...ok, verdict: 'maybe' },
      { ...ok, verdict: undefined },
      { ...ok, leaseId: '' },
      { ...ok, jobId: 7 },
      { ...ok, leaseId: 'x'.repeat(PEER_MESSAGE_LIMITS.maxIdLength + 1) },
      { ...ok, creditMs: -1 },
      { ...ok, creditMs: Number.NaN },
      { ...ok, creditMs: '5' },
      { ...ok, creditMs: PEER_MESSAGE_LIMITS.maxVerdictCreditMs + 1 },
      { ...ok, verdict: 'rejected', creditMs: 5 },
    ];
    for (const h of bad) expect(parsePeerMessage(h)).toBeNull();
    expect(decodePeerMessage(encodeFrame({ ...ok, creditMs: Infinity }))).toBeNull();
  });

  it('keeps only the declared fields', () => {
    const msg = parsePeerMessage({ ...ok, extra: 'x', __proto__: { creditMs: 1 } });
    expect(msg).toEqual(ok);
  });
});
