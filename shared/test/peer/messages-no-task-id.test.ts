import { describe, expect, it } from 'vitest';
import {
  type AssignMessage,
  decodeFrame,
  decodePeerMessage,
  encodeFrame,
  encodePeerMessage,
  PEER_MESSAGE_LIMITS,
  tensorFrom,
  type VerdictMessage,
} from '../../src/index.ts';

// A donor must not tell a solo task, a replica and an audit apart: nothing
// job-wide about the task goes on the wire, only the lease.
const H = 'cd'.repeat(32);
const x = tensorFrom('float32', [1], new Float32Array([1]));
const assign: AssignMessage = {
  type: 'assign',
  leaseId: 'Zx9_-aQ3bT0kLm2NpR7sUw',
  jobId: 'j',
  modelHash: H,
  modelBytes: 4,
  feeds: { x },
  deadlineMs: 1000,
  backend: 'wasm',
};
const verdict: VerdictMessage = {
  type: 'verdict',
  leaseId: assign.leaseId,
  jobId: 'j',
  verdict: 'accepted',
  creditMs: 3,
};
const headerOf = (msg: AssignMessage | VerdictMessage) =>
  decodeFrame(encodePeerMessage(msg))?.header as Record<string, unknown>;

describe('assign and verdict name no task', () => {
  it('carry no taskId key in their encoded header, even when handed one', () => {
    // Extra fields (an engine action's, an older caller's) are not spread onto the wire.
    const stray = { taskId: 't7', spot: true };
    for (const msg of [assign, verdict]) {
      expect(Object.keys(headerOf(msg))).not.toContain('taskId');
      expect(headerOf({ ...msg, ...stray })).toEqual(headerOf(msg));
    }
  });

  it("parse an older peer's messages that still carry a taskId, dropping it", () => {
    for (const msg of [assign, verdict]) {
      const parsed = decodePeerMessage(encodeFrame({ ...headerOf(msg), taskId: 't7' }, [x]));
      expect(parsed).toEqual(msg);
      expect(parsed).not.toHaveProperty('taskId');
    }
  });

  it('accept opaque lease ids: base64url, hex, up to the id limit', () => {
    const ids = [
      'Zx9_-aQ3bT0kLm2NpR7sUw',
      '0123456789abcdef0123456789abcdef',
      'A'.repeat(PEER_MESSAGE_LIMITS.maxIdLength),
    ];
    for (const leaseId of ids) {
      expect(decodePeerMessage(encodePeerMessage({ ...assign, leaseId }))).toEqual({
        ...assign,
        leaseId,
      });
      expect(decodePeerMessage(encodePeerMessage({ ...verdict, leaseId }))).toEqual({
        ...verdict,
        leaseId,
      });
    }
    const tooLong = 'A'.repeat(PEER_MESSAGE_LIMITS.maxIdLength + 1);
    expect(decodePeerMessage(encodePeerMessage({ ...verdict, leaseId: tooLong }))).toBeNull();
  });
});
