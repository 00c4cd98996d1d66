/**
 * The seeded fuzzers at a smaller count than `npm run fuzz` (100 000 each):
 * the server survives the storm with bounded RSS while an honest pair relays,
 * and a peer link drops, penalizes and disconnects without ever throwing.
 */
import { describe, expect, it } from 'vitest';
import { runPeerFuzz } from '../fuzz/peer-fuzz.ts';
import { runSignalingFuzz } from '../fuzz/signaling-fuzz.ts';
import { startTestServer, until, wsUrl } from './helpers.ts';

// Smaller than `npm run fuzz` (100 000 of each) to keep `npm test` quick.
const SIGNALING_MESSAGES = 10_000;
const PEER_MESSAGES = 20_000;

describe('fuzzing', () => {
  it(`signaling: ${SIGNALING_MESSAGES} hostile messages, the server stays up and an honest pair relays`, async () => {
    const server = await startTestServer();
    try {
      const r = await runSignalingFuzz({
        url: wsUrl(server),
        httpUrl: server.url,
        messages: SIGNALING_MESSAGES,
        seed: 7,
      });
      expect(r.sent).toBeGreaterThanOrEqual(SIGNALING_MESSAGES);
      expect(r.floodConnections).toBeGreaterThan(0);
      expect(r.serverUp).toBe(true);
      expect(r.honestDisconnected).toBe(false);
      expect(r.honestRoundTripsDuringStorm).toBeGreaterThan(0);
      for (const reason of [
        'bad-json',
        'unknown-type',
        'bad-message',
        'binary-frame',
        'too-large',
      ]) {
        expect(r.serverRejected[reason], reason).toBeGreaterThan(0);
      }
      expect(r.closesByCode['1009']).toBeGreaterThan(0); // oversized frames
      expect(r.rssAfterMB - r.rssBeforeMB).toBeLessThan(150);
      // Every socket is gone and so is every member: nothing leaks in the bus.
      await until(() => server.bus.stats().peers === 0, 5000, 'bus empty');
      expect(server.bus.stats().grids).toBe(0);
    } finally {
      await server.close();
    }
  });

  it(`peer protocol: ${PEER_MESSAGES} hostile chunks, dropped and penalized, never thrown`, async () => {
    const r = await runPeerFuzz({ messages: PEER_MESSAGES, seed: 7 });
    expect(r.threw).toBe(0);
    expect(r.wrongCloseReasons).toEqual([]);
    expect(r.linksClosedMisbehaving).toBeGreaterThan(100);
    expect(r.honestSent).toBeGreaterThan(1000);
    expect(r.honestDelivered).toBe(r.honestSent);
    expect(Object.keys(r.byKind).length).toBeGreaterThanOrEqual(6);
  });
});
