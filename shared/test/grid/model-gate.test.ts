import { describe, expect, it } from 'vitest';
import { createModelGate, type PeerPool } from '../../src/index.ts';

const noLinks = { on: () => () => {}, links: () => [] } as unknown as Pick<
  PeerPool,
  'on' | 'links'
>;

describe('model gate', () => {
  it('lets fetchers in one per holder, so holders double, and sends held assigns as holders appear', () => {
    const holders: string[] = [];
    const gate = createModelGate({ holders: () => [...holders] }, noLinks, true);
    const sent: string[] = [];
    const admit = (lease: string, donor: string) =>
      gate.admit(lease, donor, 'm', () => sent.push(lease));
    // Only the submitter holds it: one donor may fetch.
    expect(admit('l1', 'd1')).toBe(true);
    expect(admit('l2', 'd2')).toBe(false);
    expect(admit('l3', 'd3')).toBe(false);
    expect(sent).toEqual(['l1']);
    // d1 got the model and its lease ended: two places (submitter + d1).
    holders.push('d1');
    gate.ended('l1', 'd1');
    expect(sent).toEqual(['l1', 'l2', 'l3']);
    // A holder is never held back.
    expect(admit('l4', 'd1')).toBe(true);
  });

  it('forgets a held lease that ends before it was sent, and sends everything when off', () => {
    const gate = createModelGate({ holders: () => [] }, noLinks, true);
    const sent: string[] = [];
    gate.admit('a', 'd1', 'm', () => sent.push('a'));
    gate.admit('b', 'd2', 'm', () => sent.push('b'));
    gate.ended('b', 'd2'); // cancelled while waiting
    gate.ended('a', 'd1'); // d1 gave up: its place frees, but b is gone
    expect(sent).toEqual(['a']);
    const off = createModelGate({ holders: () => [] }, noLinks, false);
    expect(off.admit('c', 'd3', 'm', () => sent.push('c'))).toBe(true);
    expect(sent).toEqual(['a', 'c']);
  });
});
