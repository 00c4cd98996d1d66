import { describe, expect, it } from 'vitest';
import { createCommitQueue } from '../../src/grid/commit-queue.ts';

/** A commit that records each call and finishes when the test says so. */
function slowCommits() {
  const calls: number[] = [];
  const pending: (() => void)[] = [];
  let n = 0;
  const commit = () =>
    new Promise<void>((resolve) => {
      calls.push(++n);
      pending.push(resolve);
    });
  const finishAll = async () => {
    while (pending.length > 0) {
      pending.shift()?.();
      await Promise.resolve();
      await Promise.resolve();
    }
  };
  return { calls, commit, finishAll };
}

describe('commit queue', () => {
  it('without defer commits at once and coalesces inputs that arrive during a commit', async () => {
    const c = slowCommits();
    const q = createCommitQueue(c.commit);
    q.schedule();
    expect(c.calls).toEqual([1]);
    q.schedule();
    q.schedule();
    expect(c.calls).toEqual([1]); // one at a time
    await c.finishAll();
    expect(c.calls).toEqual([1, 2]); // the two became one
  });

  it('with defer, a burst of inputs shares one commit that starts when the deferred call runs', async () => {
    let commits = 0;
    const deferred: (() => void)[] = [];
    const q = createCommitQueue(
      async () => {
        commits++;
      },
      { defer: (run) => deferred.push(run) },
    );
    for (let i = 0; i < 10; i++) q.schedule();
    expect(commits).toBe(0);
    expect(deferred).toHaveLength(1);
    deferred.shift()?.();
    await q.flush();
    expect(commits).toBe(2); // the burst, then flush's own
    q.schedule();
    expect(deferred).toHaveLength(1);
  });

  it('flush does not wait for the deferred call, and the stale call then does nothing', async () => {
    let commits = 0;
    const deferred: (() => void)[] = [];
    const q = createCommitQueue(
      async () => {
        commits++;
      },
      { defer: (run) => deferred.push(run) },
    );
    q.schedule();
    q.schedule();
    await q.flush();
    expect(commits).toBe(1);
    deferred.shift()?.();
    await Promise.resolve();
    expect(commits).toBe(1);
  });

  it('starts a deferred commit without waiting after maxBatch inputs', async () => {
    let commits = 0;
    const deferred: (() => void)[] = [];
    const q = createCommitQueue(
      async () => {
        commits++;
      },
      { defer: (run) => deferred.push(run), maxBatch: 4 },
    );
    for (let i = 0; i < 3; i++) q.schedule();
    expect(commits).toBe(0);
    q.schedule();
    expect(commits).toBe(1);
    expect(deferred).toHaveLength(1);
  });

  it('stops at the first failure and flush rejects with it', async () => {
    const errors: unknown[] = [];
    let commits = 0;
    const q = createCommitQueue(
      async () => {
        commits++;
        throw new Error('disk full');
      },
      { defer: (run) => run() },
    );
    q.onError((e) => errors.push(e));
    q.schedule();
    await expect(q.flush()).rejects.toThrow('disk full');
    q.schedule();
    expect(commits).toBe(1);
    expect(errors).toHaveLength(1);
  });
});
