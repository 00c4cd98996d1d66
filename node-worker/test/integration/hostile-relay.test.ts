/**
 * Links bound to keys, against a hostile signaling relay, over real WebRTC
 * (node-datachannel and @roamhq/wrtc): the relay (a) swaps a peer's SDP for
 * its own, (b) replays an old signed SDP, (c) forwards a valid SDP under
 * another peer's id. Each is refused by code and counted, no channel of the
 * relay's becomes a link, and the honest links still form.
 */
import {
  createIdentity,
  createLinkAuthenticator,
  type Identity,
  type PeerId,
  type PeerLink,
  type PeerMessage,
} from '@peergrid/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNodePeerPool, type NodePeerPool } from '../../src/transport/node-peer-pool.ts';
import { createNodeWrtc, type NodeWrtc, type NodeWrtcKind } from '../../src/transport/node-wrtc.ts';
import { nodeSubtle } from '../../src/worker/node-identity.ts';
import { createHostileRelay, createMallory, type Relayed } from './hostile-relay.ts';

type Env = { pg?: string; s?: string; d?: { type?: string; sdp?: string }; id?: unknown };
const env = (r: Relayed) => r.data as Env;
const isDesc = (r: Relayed, type: 'offer' | 'answer', from: PeerId, to: PeerId) =>
  r.from === from && r.to === to && env(r).pg === 'sig' && env(r).d?.type === type;

function echoOnce(link: PeerLink): Promise<PeerMessage> {
  return new Promise((resolve) => {
    const off = link.onMessage((m) => {
      off();
      resolve(m);
    });
  });
}

/** The link `pool` holds to `from`, once its side has opened too. */
function linkAt(pool: NodePeerPool, from: PeerId): Promise<PeerLink> {
  const l = pool.get(from);
  if (l) return Promise.resolve(l);
  return new Promise((resolve) => {
    const off = pool.on('link-open', (link) => {
      if (link.remoteId !== from) return;
      off();
      resolve(link);
    });
  });
}

/** Proves a link carries messages: `a` sends, `pool`'s end of it hears. */
async function exchange(a: PeerLink, pool: NodePeerPool, sender: PeerId): Promise<void> {
  const got = echoOnce(await linkAt(pool, sender));
  await a.send({ type: 'cancel', leaseId: 'probe' });
  expect(await got).toMatchObject({ type: 'cancel', leaseId: 'probe' });
}

for (const kind of ['ndc', 'wrtc'] as NodeWrtcKind[]) {
  describe(`link authentication against a hostile relay (${kind})`, () => {
    let native: NodeWrtc;
    let ids: [Identity, Identity, Identity];
    let mallory: Identity;
    const live: NodePeerPool[] = [];
    const malloryPeers: ReturnType<typeof createMallory>[] = [];

    beforeAll(async () => {
      native = await createNodeWrtc(kind);
      const three = [
        await createIdentity(nodeSubtle),
        await createIdentity(nodeSubtle),
        await createIdentity(nodeSubtle),
      ];
      three.sort((x, y) => (x.id < y.id ? -1 : 1)); // A < B < C: the lower id offers
      ids = three as [Identity, Identity, Identity];
      mallory = await createIdentity(nodeSubtle);
    });
    afterEach(async () => {
      for (const p of live.splice(0)) await p.shutdown();
      for (const m of malloryPeers.splice(0)) m.close();
    });
    afterAll(async () => {
      await native.shutdown();
    });

    async function grid() {
      const relay = createHostileRelay();
      const pools = await Promise.all(
        ids.map((identity) =>
          createNodePeerPool({
            signal: relay.channel(identity.id),
            native,
            auth: { identity, subtle: nodeSubtle },
            connectTimeoutMs: 8000,
            connectAttempts: 3,
            link: { heartbeatIntervalMs: 250, deadAfterMs: 4000 },
          }),
        ),
      );
      live.push(...pools);
      const [a, b, c] = pools as [NodePeerPool, NodePeerPool, NodePeerPool];
      const opened: string[] = [];
      for (const p of pools) p.on('link-open', (l) => opened.push(`${p.selfId}>${l.remoteId}`));
      const m = createMallory(native);
      malloryPeers.push(m);
      return { relay, a, b, c, A: ids[0].id, B: ids[1].id, C: ids[2].id, opened, m };
    }

    it('honest peers sign, check and link', async () => {
      const { a, b, c, B, C, A } = await grid();
      const ab = await a.connect(B);
      const bc = await b.connect(C);
      const ca = await c.connect(A); // C asks A to dial
      await exchange(ab, b, A);
      await exchange(bc, c, B);
      await exchange(ca, a, C);
      for (const p of [a, b, c]) expect(p.stats().refused).toEqual({});
    });

    it("(a) refuses the relay's own SDP in place of a peer's offer or answer, and the honest link forms", async () => {
      const g = await grid();
      const { relay, a, b, c, A, B, C, m } = g;
      // A's first offer to B is swapped for Mallory's offer, under A's proof.
      let swappedOffer = false;
      // A's first offer to C is answered by Mallory in C's place, under C's proof.
      let swappedAnswer = false;
      relay.tamper = async (sig) => {
        if (!swappedOffer && isDesc(sig, 'offer', A, B)) {
          swappedOffer = true;
          const own = await m.ownOffer();
          return [{ ...sig, data: { ...env(sig), d: own } }];
        }
        if (!swappedAnswer && isDesc(sig, 'offer', A, C)) {
          // Mallory answers A's real offer; C's real answer gets her SDP under C's proof.
          const own = await m.ownAnswer(env(sig).d);
          relay.tamper = async (later) => {
            if (!swappedAnswer && isDesc(later, 'answer', C, A)) {
              swappedAnswer = true;
              return [{ ...later, data: { ...env(later), d: own } }];
            }
            return undefined;
          };
        }
        return undefined;
      };
      const ab = await a.connect(B);
      await exchange(ab, b, A);
      expect(swappedOffer).toBe(true);
      expect(b.stats().refused).toEqual({ 'fingerprint-mismatch': 1 });
      const ac = await a.connect(C);
      await exchange(ac, c, A);
      expect(swappedAnswer).toBe(true);
      expect(a.stats().refused).toEqual({ 'fingerprint-mismatch': 1 });
      expect(m.connected()).toBe(0);
      expect(g.opened.sort()).toEqual([`${A}>${B}`, `${A}>${C}`, `${B}>${A}`, `${C}>${A}`].sort());
    });

    it("(a) refuses the relay's own SDP signed with the relay's own key", async () => {
      const { relay, a, b, A, B, m } = await grid();
      const authM = createLinkAuthenticator({ identity: mallory, subtle: nodeSubtle });
      let swapped = false;
      relay.tamper = async (sig) => {
        if (swapped || !isDesc(sig, 'offer', A, B)) return undefined;
        swapped = true;
        const own = (await m.ownOffer()) as { type: 'offer'; sdp: string };
        const s = env(sig).s!;
        const id = await authM.sign({ selfId: mallory.id, remoteId: B, session: s }, own);
        return [{ ...sig, data: { ...env(sig), d: own, id } }];
      };
      await exchange(await a.connect(B), b, A);
      expect(b.stats().refused).toEqual({ 'wrong-peer-key': 1 });
      expect(m.connected()).toBe(0);
    });

    it('(b) refuses a replayed old offer and a replayed old answer, and the honest link forms again', async () => {
      const { relay, a, b, A, B } = await grid();
      const first = await a.connect(B);
      const oldOffer = relay.sent.find((r) => isDesc(r, 'offer', A, B))!;
      const oldAnswer = relay.sent.find((r) => isDesc(r, 'answer', B, A))!;
      first.close();
      await vi.waitFor(() => expect(b.get(A)).toBeUndefined(), { timeout: 8000 });

      // The old offer, delivered ahead of the new one.
      let replayedOffer = false;
      relay.tamper = (sig) => {
        if (replayedOffer || !isDesc(sig, 'offer', A, B)) return undefined;
        replayedOffer = true;
        return [oldOffer, sig];
      };
      const second = await a.connect(B);
      await exchange(second, b, A);
      expect(b.stats().refused).toEqual({ 'replayed-description': 1 });
      second.close();
      await vi.waitFor(() => expect(b.get(A)).toBeUndefined(), { timeout: 8000 });

      // B's new answer replaced by its old one, re-addressed to the current attempt.
      let replayedAnswer = false;
      relay.tamper = (sig) => {
        if (replayedAnswer || !isDesc(sig, 'answer', B, A)) return undefined;
        replayedAnswer = true;
        return [{ ...oldAnswer, data: { ...env(oldAnswer), s: env(sig).s } }];
      };
      const third = await a.connect(B);
      await exchange(third, b, A);
      expect(replayedAnswer).toBe(true);
      expect(a.stats().refused).toEqual({ 'replayed-description': 1 });
    });

    it("(c) refuses a valid SDP forwarded under another peer's id or to another peer", async () => {
      const { relay, a, b, c, A, B, C } = await grid();
      const bc = await b.connect(C);
      const ab = await a.connect(B);
      const offerBC = relay.sent.find((r) => isDesc(r, 'offer', B, C))!;
      const offerAB = relay.sent.find((r) => isDesc(r, 'offer', A, B))!;
      // B's offer to C, stamped as A's.
      relay.inject({ from: A, to: C, data: { ...env(offerBC), s: `${A}#99` } });
      await vi.waitFor(() => expect(c.stats().refused['wrong-peer-key']).toBe(1), {
        timeout: 8000,
      });
      // A's offer to B, delivered to C as A's (its proof names B).
      relay.inject({ from: A, to: C, data: env(offerAB) });
      await vi.waitFor(() => expect(c.stats().refused['bad-description-signature']).toBe(1), {
        timeout: 8000,
      });
      // The honest links are untouched, and A and C still link.
      await exchange(bc, c, B);
      await exchange(ab, b, A);
      await exchange(await a.connect(C), c, A);
      expect(
        c
          .links()
          .map((l) => l.remoteId)
          .sort(),
      ).toEqual([A, B].sort());
    });
  });
}
