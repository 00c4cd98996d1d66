import { describe, expect, it } from 'vitest';
import { createReputationBook } from '../../src/job/reputation.ts';
import { createFairQueue, type DonorSlot, pickDonor } from '../../src/job/scheduler.ts';
import { type DecideOptions, decide } from '../../src/job/verify.ts';
import { out } from './helpers.ts';

const opts = (trusted: string[] = [], solo = false): DecideOptions => ({
  rule: { kind: 'exact' },
  quorum: 2,
  maxReplicas: 5,
  trusted: (p) => trusted.includes(p),
  solo,
});
const v = (donor: string, value: number) => ({ donor, outputs: out(value) });

describe('verifier decisions', () => {
  it('accepts a quorum, a solo trusted result, and a firm group in a dispute', () => {
    expect(decide([v('a', 1), v('b', 1)], opts())).toEqual({
      kind: 'accept',
      winners: [0, 1],
      losers: [],
      firm: false,
    });
    expect(decide([v('a', 1)], opts())).toEqual({ kind: 'more', target: 2 });
    expect(decide([v('t', 1)], opts(['t'], true))).toMatchObject({ kind: 'accept', firm: false });
    expect(decide([v('a', 1)], opts([], true))).toEqual({ kind: 'more', target: 2 }); // not trusted any more
    expect(decide([v('t', 1), v('a', 1)], opts(['t']))).toMatchObject({
      kind: 'accept',
      firm: true,
    });
    expect(decide([v('a', 2), v('t', 1), v('b', 1)], opts(['t']))).toEqual({
      kind: 'accept',
      winners: [1, 2],
      losers: [0],
      firm: true,
    });
  });

  it('asks for more on a dispute, needs a margin without trust, fails past maxReplicas', () => {
    expect(decide([v('a', 1), v('b', 2)], opts())).toEqual({ kind: 'more', target: 3 });
    expect(decide([v('a', 1), v('b', 2), v('c', 1)], opts())).toEqual({ kind: 'more', target: 4 });
    expect(decide([v('a', 1), v('b', 2), v('c', 1), v('d', 1)], opts())).toMatchObject({
      kind: 'accept',
      losers: [1],
      firm: false,
    });
    const five = [v('a', 1), v('b', 2), v('c', 1), v('d', 2), v('e', 3)];
    const d = decide(five, opts());
    expect(d.kind).toBe('fail');
    expect(d.kind === 'fail' && d.reason).toMatch(/after 5 results: \[a,c\] vs \[b,d\] vs \[e\]/);
  });
});

describe('scheduler', () => {
  const slot = (id: string, inFlight: number, extra: Partial<DonorSlot> = {}): DonorSlot => ({
    id,
    backend: 'wasm',
    inFlight,
    slots: 2,
    trusted: false,
    ...extra,
  });
  const req = { exclude: new Set<string>(), strictBackend: false, preferTrusted: false };

  it('picks distinct, least-loaded donors with free slots', () => {
    const donors = [slot('a', 1), slot('b', 0), slot('c', 2)];
    expect(pickDonor(donors, req)!.id).toBe('b');
    expect(pickDonor(donors, { ...req, exclude: new Set(['b']) })!.id).toBe('a');
    expect(pickDonor(donors, { ...req, exclude: new Set(['a', 'b']) })).toBeNull(); // c is full
  });

  it('keeps the backend class (strictly under exact comparison) and prefers trust when asked', () => {
    const donors = [slot('g', 0, { backend: 'webgpu' }), slot('w', 1)];
    expect(pickDonor(donors, { ...req, backend: 'wasm' })!.id).toBe('w');
    expect(pickDonor([donors[0]!], { ...req, backend: 'wasm' })!.id).toBe('g');
    expect(pickDonor([donors[0]!], { ...req, backend: 'wasm', strictBackend: true })).toBeNull();
    const t = [slot('a', 0), slot('t', 1, { trusted: true })];
    expect(pickDonor(t, { ...req, preferTrusted: true })!.id).toBe('t');
    const busyTrusted = [slot('a', 0), slot('t', 2, { trusted: true })];
    expect(pickDonor(busyTrusted, { ...req, preferTrusted: true })!.id).toBe('a');
    expect(pickDonor(busyTrusted, { ...req, requireTrusted: true })).toBeNull();
  });

  it('shares a donor fairly between submitters', () => {
    const q = createFairQueue<string>();
    for (const x of ['a1', 'a2', 'a3']) q.push('A', x);
    q.push('B', 'b1');
    q.push('C', 'c1');
    q.push('B', 'b2');
    const order: string[] = [];
    for (let x = q.shift(); x !== undefined; x = q.shift()) order.push(x);
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    q.push('A', 'x');
    expect(q.drop('A')).toEqual(['x']);
    expect(q.size).toBe(0);
  });
});

describe('reputation', () => {
  it('trusts after spot checks and a clean streak; a lost vote starts over; exclusion notifies once', () => {
    const book = createReputationBook([], { trustAfterSpotChecks: 2, trustAfterStreak: 3 });
    book.agreed('p', { spot: true });
    book.agreed('p', { spot: true });
    expect(book.isTrusted('p')).toBe(false);
    book.agreed('p');
    expect(book.isTrusted('p')).toBe(true);
    book.disagreed('p');
    expect(book.isTrusted('p')).toBe(false);
    expect(book.get('p')).toMatchObject({
      agreements: 3,
      disagreements: 1,
      streak: 0,
      spotPassed: 0,
    });
    const seen: string[] = [];
    book.onExcluded((x) => seen.push(x));
    book.exclude('q', 'lied');
    book.exclude('q', 'again');
    expect(seen).toEqual(['q']);
    expect(book.get('q')).toMatchObject({ excluded: true, excludedReason: 'lied' });
    book.reinstate('q');
    expect(book.get('q')).toMatchObject({ excluded: false, streak: 0, spotPassed: 0 });
    expect(book.get('q').excludedReason).toBeUndefined();
    book.credit('p', 1500);
    expect(book.get('p').creditMs).toBe(1500);
    expect(
      book
        .takeChanged()
        .map((r) => r.peerId)
        .sort(),
    ).toEqual(['p', 'q']);
    expect(book.takeChanged()).toEqual([]);
    expect(createReputationBook(book.records()).get('p').creditMs).toBe(1500);
  });
});
