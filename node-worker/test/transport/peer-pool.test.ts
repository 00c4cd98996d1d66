/**
 * PeerPool and PeerLink over real WebRTC (simple-peer + a native
 * RTCPeerConnection) between pools in this process, introduced by an
 * in-memory signaling hub.
 */
import {
  createMemorySignalHub,
  type PeerLink,
  type PeerMessage,
  tensorFrom,
} from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodePeerPool, type NodePeerPool } from '../../src/transport/node-peer-pool.ts';
import { createNodeWrtc, type NodeWrtc, type NodeWrtcKind } from '../../src/transport/node-wrtc.ts';

function nextMessage(link: PeerLink, type: PeerMessage['type']): Promise<PeerMessage> {
  return new Promise((resolve) => {
    const off = link.onMessage((m) => {
      if (m.type === type) {
        off();
        resolve(m);
      }
    });
  });
}

function opened(pool: NodePeerPool, from: string): Promise<PeerLink> {
  const l = pool.get(from);
  if (l) return Promise.resolve(l);
  return new Promise((resolve) => {
    const off = pool.on('link-open', (link) => {
      if (link.remoteId === from) {
        off();
        resolve(link);
      }
    });
  });
}

for (const kind of ['ndc', 'wrtc'] as NodeWrtcKind[]) {
  describe(`PeerPool over real WebRTC (${kind})`, () => {
    let native: NodeWrtc;
    const pools: NodePeerPool[] = [];
    const hub = createMemorySignalHub();
    const pool = async (id: string, extra = {}) => {
      const p = await createNodePeerPool({
        signal: hub.channel(`${kind}-${id}`),
        native,
        link: { heartbeatIntervalMs: 250, deadAfterMs: 1500 },
        ...extra,
      });
      pools.push(p);
      return p;
    };

    beforeAll(async () => {
      native = await createNodeWrtc(kind);
    });
    afterAll(async () => {
      for (const p of pools) await p.shutdown();
      await native.shutdown();
    });

    it('connects on demand, once per pair even when both sides dial, and round-trips a multi-MB tensor', async () => {
      const a = await pool('a');
      const b = await pool('b');
      const [ab, ba] = await Promise.all([a.connect(`${kind}-b`), b.connect(`${kind}-a`)]);
      // One connection for the pair (a retried setup may have created more, but only one survives).
      expect(a.links().map((l) => l.remoteId)).toEqual([`${kind}-b`]);
      expect(b.links().map((l) => l.remoteId)).toEqual([`${kind}-a`]);
      expect(await a.connect(`${kind}-b`)).toBe(ab);
      const n = 1_500_000; // 6 MB of float32
      const x = tensorFrom(
        'float32',
        [1000, 1500],
        Float32Array.from({ length: n }, (_, i) => i % 1009),
      );
      // b echoes feeds back as outputs.
      ba.onMessage((m) => {
        if (m.type === 'assign')
          void ba.send({
            type: 'result',
            leaseId: m.leaseId,
            outputs: m.feeds,
            digest: '0'.repeat(64),
            computeMs: 0,
            backend: 'cpu',
          });
      });
      const reply = nextMessage(ab, 'result');
      await ab.send({
        type: 'assign',
        leaseId: 'echo',
        jobId: 'j',
        modelHash: '1'.repeat(64),
        modelBytes: 1,
        feeds: { x },
        deadlineMs: 1000,
      });
      const r = await reply;
      if (r.type !== 'result') throw new Error(r.type);
      const back = new Float32Array(r.outputs.x!.data.buffer);
      expect(r.outputs.x!.dims).toEqual([1000, 1500]);
      expect(back.length).toBe(n);
      expect(back.every((v, i) => v === i % 1009)).toBe(true);
      expect(ab.stats().penalties + ba.stats().penalties).toBe(0);
    });

    it('notices a destroyed peer within a few seconds and reports link-closed', async () => {
      const c = await pool('c');
      const d = await pool('d');
      const dc = opened(d, `${kind}-c`);
      const cd = await c.connect(`${kind}-d`);
      await dc;
      const closed = new Promise<{ id: string; code: string; at: number }>((resolve) =>
        d.on('link-closed', (id, reason) =>
          resolve({ id, code: reason.code, at: performance.now() }),
        ),
      );
      const t0 = performance.now();
      // Tear c's connection down without telling anyone (as a killed process would).
      c.close();
      const ev = await closed;
      expect(ev.id).toBe(`${kind}-c`);
      expect(['peer-closed', 'peer-timeout', 'peer-error']).toContain(ev.code);
      expect(ev.at - t0).toBeLessThan(5000);
      expect(cd.closed).toBe(true);
      expect(d.get(`${kind}-c`)).toBeUndefined();
    });

    it('enforces maxOpen, and a full peer answers busy', async () => {
      const e = await pool('e', { maxOpen: 1 });
      const f = await pool('f');
      const g = await pool('g');
      const h = await pool('h');
      await e.connect(`${kind}-f`);
      await expect(e.connect(`${kind}-g`)).rejects.toMatchObject({ code: 'too-many-connections' });
      e.get(`${kind}-f`)?.close();
      await e.connect(`${kind}-g`);
      // A peer that is full answers `busy` rather than leaving the dialer waiting.
      await expect(h.connect(`${kind}-e`)).rejects.toMatchObject({ code: 'peer-busy' });
      expect(f.created + g.created + h.created).toBeGreaterThanOrEqual(2);
    });
  });
}
