import { describe, expect, it } from 'vitest';
import { createDonorRoster } from '../../src/grid/donor-roster.ts';
import type { GridPresence } from '../../src/grid/grid-peer.ts';
import type { DonorInfo } from '../../src/job/types.ts';
import type { PeerInfo } from '../../src/signaling/messages.ts';
import { createVirtualTime } from '../peer/helpers.ts';

const info = (id: string, maxConcurrency: number): PeerInfo =>
  ({
    id,
    capabilities: { runtime: 'node', backends: ['cpu'], cores: 1, memoryMB: 1, maxConcurrency },
  }) as unknown as PeerInfo;

function presenceOf(peers: PeerInfo[]): GridPresence {
  const map = new Map(peers.map((p) => [p.id, p]));
  return {
    selfId: 's',
    peers: () => map,
    on: () => () => {},
    updateCapabilities: () => {},
    close: () => {},
  };
}

describe('donor roster windows', () => {
  it('offers each donor its window and offers it again only when the window changes', () => {
    const vt = createVirtualTime();
    const windows = new Map([
      ['a', 4],
      ['b', 6],
    ]);
    const offers: DonorInfo[] = [];
    const roster = createDonorRoster({
      presence: presenceOf([info('a', 2), info('b', 3)]),
      pool: { on: () => () => {} },
      timers: vt.timers,
      isDonor: () => true,
      slotsFor: (p) => windows.get(p.id) ?? 1,
      retryDonorMs: 1000,
      available: (d) => offers.push(d),
      gone: () => {},
    });
    roster.start();
    expect(offers.map((d) => [d.id, d.capabilities.maxConcurrency])).toEqual([
      ['a', 4],
      ['b', 6],
    ]);
    roster.refresh();
    expect(offers).toHaveLength(2); // nothing changed: no offer
    windows.set('b', 40); // b's round trip was measured: a deeper window
    roster.refresh();
    expect(offers.slice(2).map((d) => [d.id, d.capabilities.maxConcurrency])).toEqual([['b', 40]]);
    roster.close();
  });
});
