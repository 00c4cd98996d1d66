import type { DonorCredit, Executor, PeerMessage, VerdictMessage } from '@peergrid/shared';
import { createBlobExchange, createMemoryBlobCache } from '@peergrid/shared';
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createDonorSide, DONOR_VIEW_MS, type DonorCounters } from '../src/grid/donor-side.ts';
import { createLoopback } from '../src/grid/loopback.ts';
import { openPageDb } from '../src/grid/page-db.ts';
import { now, sha256, timers } from '../src/grid/platform.ts';

const idle: Executor = {
  concurrency: 1,
  backends: async () => ['wasm'],
  close: async () => {},
  run: () => Promise.reject(new Error('not used')),
};

const verdict = (leaseId: string, creditMs: number): VerdictMessage => ({
  type: 'verdict',
  leaseId,
  jobId: 'j',
  verdict: creditMs > 0 ? 'accepted' : 'rejected',
  creditMs,
});

/** Lets the in-memory links deliver. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('donor side: verified compute from verdicts', () => {
  it('counts verdicts into verifiedMs and rejected, also while paused, and stops on detach', async () => {
    const seen: DonorCounters[] = [];
    const side = createDonorSide({
      executor: idle,
      blobs: createBlobExchange({ cache: createMemoryBlobCache(), sha256, now, timers }),
      sha256,
      now,
      onChange: (c) => seen.push(c),
    });
    const loop = createLoopback('me', now, timers);
    side.attach(loop.donor);
    const replies: PeerMessage[] = [];
    loop.submitter.onMessage((m) => replies.push(m));

    await loop.submitter.send(verdict('l1', 1250));
    await settle();
    expect(side.counters()).toMatchObject({ verifiedMs: 1250, rejected: 0, tasksDone: 0 });
    // The view hears of it within DONOR_VIEW_MS, once for a burst.
    await new Promise((r) => setTimeout(r, DONOR_VIEW_MS + 20));
    expect(seen.at(-1)?.verifiedMs).toBe(1250);
    expect(seen).toHaveLength(1);

    side.setPaused(true);
    await loop.submitter.send(verdict('l2', 0));
    await loop.submitter.send(verdict('l3', 500));
    await settle();
    expect(side.counters()).toMatchObject({ verifiedMs: 1750, rejected: 1 });

    side.detach(loop.donor);
    await loop.submitter.send(verdict('l4', 100));
    await settle();
    expect(side.counters().verifiedMs).toBe(1750);
    expect(replies).toEqual([]); // the donor agent does not answer verdicts
    side.close();
    loop.submitter.close();
    loop.donor.close();
  });

  it('adds the credit of earlier sessions, which the page database keeps per peer', async () => {
    const db = await openPageDb(`credit-test-${Math.random()}`);
    expect(await db.getCredit('me')).toBeUndefined();
    await db.putCredit('me', { accepted: 3, verifiedMs: 900, rejected: 1 });
    const heard: number[] = [];
    let last: DonorCredit | undefined;
    const side = createDonorSide({
      executor: idle,
      blobs: createBlobExchange({ cache: createMemoryBlobCache(), sha256, now, timers }),
      sha256,
      now,
      onChange: () => {},
      onCredit: (c) => {
        heard.push(c.verifiedMs);
        last = c;
      },
    });
    const loop = createLoopback('me', now, timers);
    side.attach(loop.donor);
    // A verdict may come before the earlier credit is read: the totals add up either way.
    await loop.submitter.send(verdict('l1', 100));
    await settle();
    expect(side.counters()).toMatchObject({ verifiedMs: 100, rejected: 0 });
    const earlier = await db.getCredit('me');
    if (earlier) side.addEarlierCredit(earlier);
    await settle();
    expect(side.counters()).toMatchObject({ verifiedMs: 1000, rejected: 1 });
    expect(heard).toEqual([100, 1000]);
    if (last) await db.putCredit('me', last);
    expect(await db.getCredit('me')).toEqual({ accepted: 4, verifiedMs: 1000, rejected: 1 });
    expect(await db.getCredit('someone-else')).toBeUndefined();
    side.close();
    loop.submitter.close();
    loop.donor.close();
    db.close();
  });
});
