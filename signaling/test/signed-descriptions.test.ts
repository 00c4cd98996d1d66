/**
 * The server relays a signed description verbatim: the proof beside the SDP
 * survives the relay, and the sender id the server stamps is the one the
 * proof's key hashes to, so the receiver's check passes. A relay that
 * rewrites either is caught by that check (shared/test/peer/link-auth.test.ts,
 * node-worker/test/integration/hostile-relay.test.ts).
 */
import { type AuthAttempt, createIdentity, createLinkAuthenticator } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSignalingServer } from '../src/server.ts';
import { client, ready, startTestServer, subtle, wsUrl } from './helpers.ts';

let server: RunningSignalingServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const FP = Array.from({ length: 32 }, (_, i) => (i + 32).toString(16).toUpperCase()).join(':');

describe('signed descriptions through the signaling server', () => {
  it('arrive with their proof intact and pass the receiver’s check', async () => {
    const ia = await createIdentity(subtle);
    const ib = await createIdentity(subtle);
    const a = await client(wsUrl(server), 'signed', { identity: ia });
    const b = await client(wsUrl(server), 'signed', { identity: ib });
    await Promise.all([ready(a), ready(b)]);
    const offer = { type: 'offer' as const, sdp: `v=0\r\na=fingerprint:sha-256 ${FP}\r\n` };
    const session = `${ia.id}#1`;
    const atA: AuthAttempt = { selfId: ia.id, remoteId: ib.id, session };
    const id = await createLinkAuthenticator({ identity: ia, subtle }).sign(atA, offer);
    const got = new Promise<[string, unknown]>((ok) =>
      b.onSignal((from, data) => ok([from, data])),
    );
    a.sendSignal(ib.id, { pg: 'sig', s: session, d: offer, id });
    const [from, data] = await got;
    expect(from).toBe(ia.id);
    expect(data).toEqual({ pg: 'sig', s: session, d: offer, id });
    const env = data as { d: typeof offer; id: unknown };
    const atB: AuthAttempt = { selfId: ib.id, remoteId: from, session };
    expect(
      await createLinkAuthenticator({ identity: ib, subtle }).check(atB, env.d, env.id),
    ).toEqual({
      ok: true,
    });
    a.close();
    b.close();
  });
});
