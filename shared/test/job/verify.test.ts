import { describe, expect, it } from 'vitest';
import { donorOdds, groupBounds, soloAfter, soloChance } from '../../src/job/credibility.ts';
import { createReputationBook } from '../../src/job/reputation.ts';
import { createFairQueue, type DonorSlot, pickDonor } from '../../src/job/scheduler.ts';
import { DEFAULT_POLICY } from '../../src/job/spec.ts';
import { type DecideOptions, decide } from '../../src/job/verify.ts';
import { out } from './helpers.ts';

const opts = (o: Partial<DecideOptions> = {}): DecideOptions => ({
  rule: { kind: 'exact' },
  quorum: 2,
  maxReplicas: 5,
  targetError: 1e-4,
  saboteurShare: 0.2,
  solo: false,
  planned: 2,
  ...o,
});
/** A result of `value` from a donor with error odds `odds`. */
const v = (donor: string, value: number, odds: number) => ({ donor, outputs: out(value), odds });
const NEW = donorOdds(0, 0.2);
const OLD = donorOdds(1000, 0.2);

describe('credibility', () => {
  it('gives newcomers the prior odds and long records small ones (Sarmenta: f / ((1 − f) k e))', () => {
    expect(NEW).toBeCloseTo(0.25);
    expect(donorOdds(10, 0.2)).toBeCloseTo(0.25 / (10 * Math.E));
    expect(donorOdds(10, 0.3)).toBeGreaterThan(donorOdds(10, 0.2));
    expect(soloAfter(DEFAULT_POLICY)).toBe(920); // 0.25 / (e · 1e-4)
    expect(soloChance(919, DEFAULT_POLICY)).toBe(0);
    expect(soloChance(1840, DEFAULT_POLICY)).toBeCloseTo(0.3); // 1 − 1/2, capped at 0.3
    expect(soloChance(1000, DEFAULT_POLICY)).toBeCloseTo(0.08);
    expect(soloChance(5000, { ...DEFAULT_POLICY, adaptive: false })).toBe(0);
  });

  it('bounds a group by its backers and by who contradicts it', () => {
    const [alone] = groupBounds([[NEW, NEW]]);
    expect(alone).toBeCloseTo(0.0625 / 1.0625);
    expect(groupBounds([[OLD, OLD]])[0]).toBeLessThan(1e-4);
    const [honest, liar] = groupBounds([[OLD, OLD], [NEW]], 0.2);
    expect(honest).toBeLessThan(1e-3);
    expect(liar).toBeGreaterThan(0.99);
    // In a dispute agreeing results may be colluders: two credible ones do not
    // outvote one credible dissenter; it takes many more agreeing donors.
    const [pair, one] = groupBounds([[OLD, OLD], [OLD]], 0.2);
    expect(pair).toBeGreaterThan(0.1);
    expect(one).toBeGreaterThan(0.5);
    const many = groupBounds(
      [
        [OLD, OLD, OLD, OLD, OLD, OLD, OLD],
        [OLD, OLD],
      ],
      0.2,
    );
    expect(many[0]).toBeLessThan(1e-3);
    expect(groupBounds([[0], [NEW, NEW]])).toEqual([0, 1]); // an anchor settles it
    expect(groupBounds([[0], [0]])).toEqual([1, 1]); // anchors in conflict settle nothing
  });
});

describe('verifier decisions', () => {
  it('waits for every planned result, then accepts the group whose bound meets the target', () => {
    expect(decide([v('a', 1, OLD)], opts({ planned: 2 }))).toEqual({
      kind: 'more',
      target: 2,
      disputed: false,
    });
    expect(decide([v('a', 1, OLD), v('b', 1, OLD)], opts())).toMatchObject({
      kind: 'accept',
      winners: [0, 1],
      losers: [],
      disputed: false,
    });
    expect(decide([v('a', 1, NEW), v('b', 1, NEW)], opts())).toEqual({
      kind: 'more',
      target: 3,
      disputed: false,
    });
    expect(decide([v('a', 1, OLD)], opts({ planned: 1, solo: true }))).toMatchObject({
      kind: 'accept',
      winners: [0],
    });
    // One credible result alone is no quorum unless the task was planned solo.
    expect(decide([v('a', 1, OLD)], opts({ planned: 1 }))).toEqual({
      kind: 'more',
      target: 2,
      disputed: false,
    });
    expect(decide([v('me', 1, 0), v('x', 2, NEW)], opts())).toMatchObject({
      kind: 'accept',
      winners: [0],
      losers: [1],
      bound: 0,
    });
  });

  it('grows a dispute, and is stuck at maxReplicas with the evidence', () => {
    expect(decide([v('a', 1, OLD), v('b', 2, OLD)], opts())).toEqual({
      kind: 'more',
      target: 3,
      disputed: true,
    });
    const d = decide(
      [v('a', 1, NEW), v('b', 2, NEW), v('c', 1, NEW), v('d', 2, NEW), v('e', 3, NEW)],
      opts(),
    );
    expect(d.kind).toBe('stuck');
    expect(d.kind === 'stuck' && d.reason).toMatch(/after 5 results: \[a,c\] vs \[b,d\] vs \[e\]/);
  });
});

describe('scheduler', () => {
  const slot = (id: string, inFlight: number, extra: Partial<DonorSlot> = {}): DonorSlot => ({
    id,
    backend: 'wasm',
    inFlight,
    slots: 2,
    anchor: false,
    credible: false,
    ...extra,
  });
  const req = { exclude: new Set<string>(), strictBackend: false };

  it('picks distinct, least-loaded donors with free slots', () => {
    const donors = [slot('a', 1), slot('b', 0), slot('c', 2)];
    expect(pickDonor(donors, req)!.id).toBe('b');
    expect(pickDonor(donors, { ...req, exclude: new Set(['b']) })!.id).toBe('a');
    expect(pickDonor(donors, { ...req, exclude: new Set(['a', 'b']) })).toBeNull(); // c is full
  });

  it('keeps the backend class (strictly under exact comparison); anchors last, or first when credibility is asked', () => {
    const donors = [slot('g', 0, { backend: 'webgpu' }), slot('w', 1)];
    expect(pickDonor(donors, { ...req, backend: 'wasm' })!.id).toBe('w');
    expect(pickDonor([donors[0]!], { ...req, backend: 'wasm' })!.id).toBe('g');
    expect(pickDonor([donors[0]!], { ...req, backend: 'wasm', strictBackend: true })).toBeNull();
    const t = [slot('a', 0), slot('c', 1, { credible: true }), slot('x', 1, { anchor: true })];
    expect(pickDonor(t, req)!.id).toBe('a');
    expect(pickDonor([t[0]!, t[2]!], { ...req, exclude: new Set(['a']) })!.id).toBe('x');
    expect(pickDonor(t, { ...req, preferCredible: true })!.id).toBe('x');
    expect(pickDonor(t.slice(0, 2), { ...req, preferCredible: true })!.id).toBe('c');
    const busyAnchor = [slot('a', 0), slot('x', 2, { anchor: true })];
    expect(pickDonor(busyAnchor, { ...req, preferCredible: true })!.id).toBe('a');
    expect(pickDonor(busyAnchor, { ...req, requireAnchor: true })).toBeNull();
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
  it('counts confirmed results, sends a loser back to probation, and notifies an exclusion once', () => {
    const book = createReputationBook([], { trustAfter: 2 });
    book.agreed('p', true);
    expect(book.isTrusted('p')).toBe(false);
    book.agreed('p', true);
    expect(book.isTrusted('p')).toBe(true);
    expect(book.lost('p', { witnesses: ['a'], anchor: false })).toBe(false);
    expect(book.isTrusted('p')).toBe(false);
    expect(book.get('p')).toMatchObject({ agreements: 2, disagreements: 1, audited: 0, losses: 1 });
    const seen: string[] = [];
    book.onExcluded((x) => seen.push(x));
    book.exclude('q', 'lied');
    book.exclude('q', 'again');
    expect(seen).toEqual(['q']);
    expect(book.get('q')).toMatchObject({ excluded: true, excludedReason: 'lied' });
    book.reinstate('q');
    expect(book.get('q')).toMatchObject({ excluded: false, audited: 0, losses: 0 });
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

  it('reads records of the earlier format as probation, keeping credit and exclusion', () => {
    const old = {
      peerId: 'o',
      agreements: 9,
      disagreements: 1,
      spotPassed: 3,
      streak: 40,
      excluded: true,
      excludedReason: 'x',
      creditMs: 7,
    };
    const book = createReputationBook([old as never]);
    expect(book.get('o')).toMatchObject({
      audited: 0,
      losses: 0,
      excluded: true,
      creditMs: 7,
      agreements: 9,
    });
  });
});
