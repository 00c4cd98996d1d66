import { describe, expect, it } from 'vitest';
import { createDonorNode, type GridPeer } from '../../src/index.ts';
import { createVirtualTime, sha256 } from '../peer/helpers.ts';
import { createMemoryGrid, donorCaps, plusOneExecutor } from './memory-grid.ts';

const linked = (p: GridPeer) =>
  p.pool
    .links()
    .map((l) => l.remoteId)
    .sort();

/** A memory grid on virtual time with one donor node `selfId` linking to `meshSize` ring neighbours. */
function ringOf(selfId: string, meshSize: number) {
  const vt = createVirtualTime();
  const grid = createMemoryGrid({ ...vt, sha256 });
  const self = grid.join(selfId, donorCaps);
  const node = createDonorNode({
    peer: self,
    executor: plusOneExecutor(new Map()),
    sha256,
    timers: vt.timers,
    meshSize,
    meshSettleMs: 1_000,
  });
  return { vt, grid, self, node };
}

describe('donor ring links', () => {
  it('links to the next donors on the ring once presence has been quiet', async () => {
    const { vt, grid, self, node } = ringOf('d5', 2);
    // A submitter (no concurrency) is not a ring member.
    grid.join('d6', { ...donorCaps, maxConcurrency: 0 });
    // Peers arrive 300 ms apart: each arrival moves the ring, so nothing is linked yet.
    for (const id of ['d9', 'd7', 'd2', 'd8']) {
      grid.join(id, donorCaps);
      await vt.advance(300);
      expect(linked(self)).toEqual([]);
    }
    await vt.advance(1_000);
    expect(linked(self)).toEqual(['d7', 'd8']);
    node.close();
    grid.close();
  });

  it('still links every few settle periods while peers keep arriving', async () => {
    const { vt, grid, self, node } = ringOf('a0', 1);
    let n = 0;
    const arrive = () => grid.join(`b${String(n++).padStart(2, '0')}`, donorCaps);
    // One arrival every 500 ms: never quiet for 1 s, yet linked by the 4 s cap.
    for (let t = 0; t < 3_500; t += 500) {
      arrive();
      await vt.advance(500);
    }
    expect(linked(self)).toEqual([]);
    arrive();
    await vt.advance(500);
    expect(linked(self)).toEqual(['b00']);
    // Closed: no more links, however the ring moves.
    node.close();
    grid.join('a1', donorCaps);
    await vt.advance(10_000);
    expect(linked(self)).toEqual(['b00']);
    grid.close();
  });
});
