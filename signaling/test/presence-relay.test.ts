import { createIdentity } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSignalingServer } from '../src/server.ts';
import { caps, client, joinRaw, ready, startTestServer, subtle, until, wsUrl } from './helpers.ts';

let server: RunningSignalingServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('presence and relay', () => {
  it('many clients see each other join, update and leave', async () => {
    const n = 24;
    const clients = await Promise.all(
      Array.from({ length: n }, () => client(wsUrl(server), 'presence')),
    );
    await Promise.all(clients.map(ready));
    for (const c of clients) await until(() => c.peers().size === n - 1, 5000, 'full presence');
    const [a, b] = clients as [(typeof clients)[0], (typeof clients)[0]];
    expect(b.peers().get(a.selfId)?.capabilities).toEqual(caps());

    const updated = new Promise((ok) => b.on('peer-updated', ok));
    a.updateCapabilities(caps(16));
    expect(await updated).toMatchObject({ id: a.selfId, capabilities: { cores: 16 } });
    expect(b.peers().get(a.selfId)?.capabilities.cores).toBe(16);

    const left = new Promise((ok) => b.on('peer-left', ok));
    a.close();
    expect(await left).toBe(a.selfId);
    expect(b.peers().has(a.selfId)).toBe(false);
    for (const c of clients.slice(1)) c.close();
    await until(() => server.bus.stats().peers === 0, 5000, 'everyone gone');
  });

  it('relays only within a grid, stamping the sender', async () => {
    const [a, b, c] = await Promise.all([
      client(wsUrl(server), 'g1'),
      client(wsUrl(server), 'g1'),
      client(wsUrl(server), 'g2'),
    ]);
    await Promise.all([a, b, c].map((x) => ready(x!)));
    const heard: unknown[] = [];
    c!.onSignal((from, data) => heard.push({ from, data }));
    const got = new Promise<[string, unknown]>((ok) =>
      b!.onSignal((from, data) => ok([from, data])),
    );
    a!.sendSignal(b!.selfId, { type: 'offer', sdp: 'v=0' });
    expect(await got).toEqual([a!.selfId, { type: 'offer', sdp: 'v=0' }]);

    const err = new Promise((ok) => a!.on('error', ok));
    a!.sendSignal(c!.selfId, { type: 'offer', sdp: 'cross-grid' });
    expect(await err).toMatchObject({ code: 'unknown-peer' });
    expect(heard).toEqual([]);
    for (const x of [a, b, c]) x!.close();
  });

  it('stamps from even when the sender claims another id', async () => {
    const a = await joinRaw(wsUrl(server), 'stamp');
    const b = await joinRaw(wsUrl(server), 'stamp');
    const victim = await createIdentity(subtle);
    a.send({ type: 'signal', to: b.id, from: victim.id, data: 'hi' });
    expect(await b.next('signal')).toEqual({ type: 'signal', from: a.id, data: 'hi' });
    a.ws.close();
    b.ws.close();
  });
});
