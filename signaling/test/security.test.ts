import { createIdentity } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RunningSignalingServer } from '../src/server.ts';
import { createJoinToken } from '../src/tokens.ts';
import {
  client,
  handshake,
  joinRaw,
  openRaw,
  startTestServer,
  subtle,
  until,
  wsUrl,
} from './helpers.ts';

describe('join tokens and Origin', () => {
  let server: RunningSignalingServer;
  beforeAll(async () => {
    server = await startTestServer({
      tokenSecret: 'k3y',
      tokenGrids: ['private'],
      allowedOrigins: ['http://good.example'],
    });
  });
  afterAll(() => server.close());

  it('refuses a missing, foreign-grid or expired token and accepts a valid one', async () => {
    const id = await createIdentity(subtle);
    const cases: [string | undefined, string][] = [
      [undefined, 'bad-token'],
      [createJoinToken('k3y', 'other', 60), 'bad-token'],
      [createJoinToken('wrong', 'private', 60), 'bad-token'],
      [createJoinToken('k3y', 'private', -5), 'token-expired'],
    ];
    for (const [token, code] of cases) {
      const p = await openRaw(wsUrl(server));
      await handshake(p, id, 'private', token === undefined ? {} : { token });
      expect(await p.next('error')).toMatchObject({ code });
      await until(() => p.closeCode !== null, 2000, 'close');
    }
    const ok = await openRaw(wsUrl(server));
    await handshake(ok, id, 'private', { token: createJoinToken('k3y', 'private', 60) });
    expect(await ok.next('joined')).toMatchObject({ id: id.id });
    // Grids outside tokenGrids stay open.
    const open = await joinRaw(wsUrl(server), 'public');
    expect(open.id).toMatch(/^[a-z2-7]{32}$/);
    ok.ws.close();
    open.ws.close();
  });

  it('the client stops on a refused token and says why', async () => {
    const c = await client(wsUrl(server), 'private', { token: 'nope' });
    const closed = await new Promise((ok) => c.on('closed', ok));
    expect(closed).toMatchObject({ code: 'bad-token' });
    expect(c.connected).toBe(false);
  });

  it('refuses a foreign Origin at the upgrade', async () => {
    await expect(openRaw(wsUrl(server), { origin: 'http://evil.example' })).rejects.toThrow(
      'HTTP 403',
    );
    const good = await openRaw(wsUrl(server), { origin: 'http://good.example' });
    good.ws.close();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /peergrid_signaling_messages_rejected_total\{reason="origin-refused"\} 1/,
    );
  });
});

describe('impersonation', () => {
  let server: RunningSignalingServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("refuses someone else's key, a replayed join and a join without challenge", async () => {
    const victim = await createIdentity(subtle);
    const attacker = await createIdentity(subtle);

    // Someone else's public key with the attacker's signature.
    const p1 = await openRaw(wsUrl(server));
    p1.send({ type: 'hello', grid: 'sec' });
    const ch = await p1.next('challenge');
    const { signChallenge } = await import('@peergrid/shared');
    const sig = await signChallenge(attacker, {
      serverId: String(ch.serverId),
      grid: 'sec',
      nonce: String(ch.nonce),
    });
    p1.send({
      type: 'join',
      grid: 'sec',
      publicKey: victim.publicKeyText,
      signature: sig,
      capabilities: { runtime: 'node', backends: [], cores: 1, memoryMB: 1, maxConcurrency: 0 },
    });
    expect(await p1.next('error')).toMatchObject({ code: 'bad-signature' });

    // The victim's genuine join, captured and replayed on another connection.
    const v = await openRaw(wsUrl(server));
    const captured = await handshake(v, victim, 'sec');
    await v.next('joined');
    const p2 = await openRaw(wsUrl(server));
    p2.send({ type: 'hello', grid: 'sec' });
    await p2.next('challenge');
    p2.send(captured);
    expect(await p2.next('error')).toMatchObject({ code: 'bad-signature' });

    // Replayed without asking for a challenge, and again on the joined socket.
    const p3 = await openRaw(wsUrl(server));
    p3.send(captured);
    expect(await p3.next('error')).toMatchObject({ code: 'no-challenge' });
    v.send(captured);
    expect(await v.next('error')).toMatchObject({ code: 'already-joined' });

    expect(server.bus.stats().peers).toBe(1);
    for (const p of [p1, p2, p3]) await until(() => p.closeCode !== null, 2000, 'attacker closed');
    expect(v.closeCode).toBeNull();
    v.ws.close();
  });

  it('the same key on a new socket replaces the old one (no lock-out)', async () => {
    const me = await createIdentity(subtle);
    const watcher = await joinRaw(wsUrl(server), 'swap');
    const first = await joinRaw(wsUrl(server), 'swap', me);
    await watcher.next('peer-joined');
    const second = await joinRaw(wsUrl(server), 'swap', me);
    expect(second.id).toBe(first.id);
    expect(await first.next('error')).toMatchObject({ code: 'replaced' });
    await until(() => first.closeCode === 4001, 2000, 'replaced close');
    expect(await watcher.next('peer-updated')).toMatchObject({ peer: { id: me.id } });
    expect(watcher.got.some((m) => m.type === 'peer-left')).toBe(false);
    watcher.send({ type: 'signal', to: me.id, data: 'to-new' });
    expect(await second.next('signal')).toMatchObject({ from: watcher.id, data: 'to-new' });
    watcher.ws.close();
    second.ws.close();
  });
});

describe('bad input', () => {
  let server: RunningSignalingServer;
  beforeAll(async () => {
    server = await startTestServer({
      limits: {
        maxMessageBytes: 4096,
        signalPayloadBytes: 1024,
        messagesPerSecond: 100,
        messageBurst: 100,
        maxStrikes: 10,
      },
    });
  });
  afterAll(() => server.close());

  it('answers each kind of bad input with a stable code while an honest pair keeps relaying', async () => {
    const a = await joinRaw(wsUrl(server), 'honest');
    const b = await joinRaw(wsUrl(server), 'honest');
    const relayed = () => b.got.filter((m) => m.type === 'signal').length;
    let sent = 0;
    const pump = setInterval(() => a.send({ type: 'signal', to: b.id, data: { n: sent++ } }), 20);

    const bad = await joinRaw(wsUrl(server), 'honest');
    const cases: [unknown, string][] = [
      ['{not json', 'bad-json'],
      [{ type: 'teleport' }, 'unknown-type'],
      [[1, 2], 'unknown-type'],
      [{ type: 'signal', to: 'x' }, 'bad-message'],
      [{ type: 'update', capabilities: { runtime: 'node' } }, 'bad-message'],
      [{ type: 'signal', to: bad.id, data: 1 }, 'unknown-peer'],
      [{ type: 'signal', to: (await createIdentity(subtle)).id, data: 1 }, 'unknown-peer'],
      [{ type: 'signal', to: b.id, data: 'x'.repeat(3900) }, 'too-large'],
    ];
    for (const [msg, code] of cases) {
      bad.send(msg);
      expect(await bad.next('error'), JSON.stringify(msg).slice(0, 40)).toMatchObject({ code });
    }
    bad.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await bad.next('error')).toMatchObject({ code: 'binary-frame' });
    expect(bad.closeCode).toBeNull();
    for (let i = 0; i < 20; i++) bad.send('{');
    await until(() => bad.closeCode === 1008, 3000, 'abuser disconnected after strikes');

    // Oversized frame: closed by ws's maxPayload with 1009.
    const big = await joinRaw(wsUrl(server), 'honest');
    big.send({ type: 'signal', to: b.id, data: 'y'.repeat(5000) });
    await until(() => big.closeCode === 1009, 3000, 'oversized close');

    // A flood: rate-limited, answered once, then disconnected.
    const flooder = await joinRaw(wsUrl(server), 'honest');
    for (let i = 0; i < 2000; i++) flooder.send({ type: 'ping' });
    await until(() => flooder.closeCode !== null, 5000, 'flooder disconnected');
    expect(
      flooder.got.filter((m) => m.type === 'error' && m.code === 'rate-limited').length,
    ).toBeLessThanOrEqual(2);

    // Garbage before joining.
    const anon = await openRaw(wsUrl(server));
    anon.send({ type: 'signal', to: b.id, data: 1 });
    expect(await anon.next('error')).toMatchObject({ code: 'not-joined' });

    const before = relayed();
    await until(() => relayed() >= before + 5, 3000, 'honest relay continues');
    clearInterval(pump);
    expect(a.closeCode).toBeNull();
    expect(b.closeCode).toBeNull();
    expect(b.got.filter((m) => m.type === 'signal').every((m) => m.from === a.id)).toBe(true);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const reason of [
      'bad-json',
      'unknown-type',
      'bad-message',
      'binary-frame',
      'too-large',
      'rate-limited',
      'unknown-peer',
      'not-joined',
    ]) {
      expect(metrics).toMatch(new RegExp(`rejected_total\\{reason="${reason}"\\} [1-9]`));
    }
    expect(metrics).toMatch(/peergrid_signaling_messages_relayed_total [1-9]/);
    a.ws.close();
    b.ws.close();
    anon.ws.close();
  });
});

describe('liveness', () => {
  it('drops sockets that do not answer pings or never join', async () => {
    const server = await startTestServer({
      limits: { heartbeatIntervalMs: 100, joinTimeoutMs: 300 },
    });
    try {
      const mute = new WebSocket(wsUrl(server), { autoPong: false });
      const closed = new Promise((ok) => mute.on('close', ok));
      mute.on('open', () => mute.send(JSON.stringify({ type: 'hello', grid: 'x' })));
      await closed;
      const idle = await openRaw(wsUrl(server));
      expect(await idle.next('error')).toMatchObject({ code: 'join-timeout' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/reason="heartbeat-timeout"\} 1/);
    } finally {
      await server.close();
    }
  });
});
