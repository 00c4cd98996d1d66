import { describe, expect, it } from 'vitest';
import { PeerGridError } from '../../src/errors.ts';
import {
  canTransition,
  type ReplicaState,
  type TaskState,
  transition,
} from '../../src/job/state.ts';

const REPLICA: ReplicaState[] = [
  'pending',
  'leased',
  'acknowledged',
  'reported',
  'verified',
  'rejected',
  'expired',
  'errored',
  'cancelled',
];
const ALLOWED: Record<ReplicaState, ReplicaState[]> = {
  pending: ['leased', 'cancelled'],
  leased: ['acknowledged', 'reported', 'expired', 'errored', 'cancelled'],
  acknowledged: ['reported', 'expired', 'errored', 'cancelled'],
  reported: ['verified', 'rejected'],
  verified: ['rejected'],
  rejected: [],
  expired: [],
  errored: [],
  cancelled: [],
};

describe('state machines', () => {
  it('allows exactly the replica transitions of the table and refuses every other', () => {
    for (const from of REPLICA) {
      for (const to of REPLICA) {
        const ok = ALLOWED[from].includes(to);
        expect(canTransition('replica', from, to), `${from} -> ${to}`).toBe(ok);
        if (ok) expect(transition('replica', from, to)).toBe(to);
        else expect(() => transition('replica', from, to)).toThrow(PeerGridError);
      }
    }
  });

  it('walks a task through its life and refuses leaving failed', () => {
    const path: TaskState[] = ['blocked', 'ready', 'running', 'verified', 'running', 'verified'];
    for (let i = 1; i < path.length; i++)
      expect(transition('task', path[i - 1]!, path[i]!)).toBe(path[i]);
    for (const to of ['blocked', 'ready', 'running', 'verified'] as TaskState[]) {
      expect(canTransition('task', 'failed', to)).toBe(false);
    }
    expect(canTransition('task', 'blocked', 'verified')).toBe(false);
    expect(canTransition('task', 'ready', 'verified')).toBe(false);
  });

  it('lets a completed job re-open but never a failed or cancelled one', () => {
    expect(canTransition('job', 'completed', 'running')).toBe(true);
    expect(canTransition('job', 'failed', 'running')).toBe(false);
    expect(canTransition('job', 'cancelled', 'running')).toBe(false);
    try {
      transition('job', 'pending', 'completed');
      expect.unreachable();
    } catch (e) {
      expect((e as PeerGridError).code).toBe('illegal-transition');
    }
  });
});
