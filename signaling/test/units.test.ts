import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryBus, type PeerSink } from '../src/bus.ts';
import { iceServersFor, parseIceServersArg } from '../src/ice.ts';
import { createTokenBucket } from '../src/token-bucket.ts';
import { createJoinToken, verifyJoinToken } from '../src/tokens.ts';

describe('join tokens', () => {
  const t0 = 1_700_000_000_000;
  it('accept their grid until expiry', () => {
    const tok = createJoinToken('s3cret', 'lab', 60, t0);
    expect(verifyJoinToken('s3cret', tok, 'lab', t0)).toBe('ok');
    expect(verifyJoinToken('s3cret', tok, 'lab', t0 + 59_000)).toBe('ok');
    expect(verifyJoinToken('s3cret', tok, 'lab', t0 + 61_000)).toBe('token-expired');
  });
  it('refuse other grids, other secrets, tampering and junk', () => {
    const tok = createJoinToken('s3cret', 'lab', 60, t0);
    expect(verifyJoinToken('s3cret', tok, 'lab2', t0)).toBe('bad-token');
    expect(verifyJoinToken('other', tok, 'lab', t0)).toBe('bad-token');
    const [body, mac] = tok.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ g: 'lab', e: 9e9 })).toString('base64url');
    expect(verifyJoinToken('s3cret', `${forged}.${mac}`, 'lab', t0)).toBe('bad-token');
    expect(verifyJoinToken('s3cret', `${body}.`, 'lab', t0)).toBe('bad-token');
    for (const junk of [undefined, '', '.', 'abc', '..x']) {
      expect(verifyJoinToken('s3cret', junk, 'lab', t0)).toBe('bad-token');
    }
  });
});

describe('ICE servers', () => {
  it('give TURN entries REST credentials and leave STUN alone', () => {
    const servers = parseIceServersArg(
      'stun:stun.example:3478,turn:turn.example:3478?transport=udp',
    );
    expect(servers).toHaveLength(2);
    const out = iceServersFor(servers!, 'peerx', 'sec', 600, 1_000_000);
    expect(out[0]).toEqual({ urls: ['stun:stun.example:3478'] });
    expect(out[1]?.username).toBe('1600:peerx');
    expect(out[1]?.credential).toBe(
      createHmac('sha1', 'sec').update('1600:peerx').digest('base64'),
    );
    expect(iceServersFor(servers!, 'p', undefined, 600)[1]).toEqual({
      urls: ['turn:turn.example:3478?transport=udp'],
    });
  });
  it('parse JSON and refuse junk', () => {
    expect(parseIceServersArg('[{"urls":"turns:t:5349","username":"u","credential":"c"}]')).toEqual(
      [{ urls: ['turns:t:5349'], username: 'u', credential: 'c' }],
    );
    expect(parseIceServersArg('http://nope')).toBeNull();
    expect(parseIceServersArg('[{')).toBeNull();
  });
});

describe('token bucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const b = createTokenBucket(10, 5, 0);
    let n = 0;
    for (let i = 0; i < 20; i++) if (b.take(0)) n++;
    expect(n).toBe(5);
    expect(b.take(50)).toBe(false);
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
    let m = 0;
    for (let t = 200; t <= 1100; t += 100) if (b.take(t)) m++;
    expect(m).toBe(10);
  });
});

describe('memory bus', () => {
  const info = (id: string) => ({
    id,
    publicKey: 'k',
    capabilities: {
      runtime: 'node' as const,
      backends: [],
      cores: 1,
      memoryMB: 1,
      maxConcurrency: 1,
    },
  });
  const sink = () => {
    const got: string[] = [];
    let replaced = 0;
    const s: PeerSink = { send: (t) => got.push(t), replaced: () => replaced++ };
    return { s, got, replacedCount: () => replaced };
  };
  it('enforces peersPerGrid and gridsPerServer, replaces same id, isolates grids', async () => {
    const bus = createMemoryBus({ peersPerGrid: 2, gridsPerServer: 2 });
    const a = sink();
    const b = sink();
    expect(await bus.join('g1', info('a'), a.s)).toEqual({ ok: true, peers: [] });
    expect(await bus.join('g1', info('b'), b.s)).toMatchObject({ ok: true, peers: [info('a')] });
    expect(a.got.map((t) => JSON.parse(t).type)).toEqual(['peer-joined']);
    expect(await bus.join('g1', info('c'), sink().s)).toEqual({ ok: false, code: 'grid-full' });
    const b2 = sink();
    expect(await bus.join('g1', info('b'), b2.s)).toMatchObject({ ok: true });
    expect(b.replacedCount()).toBe(1);
    bus.leave('g1', 'b', b.s); // the replaced socket leaves nothing
    expect(bus.stats()).toEqual({ peers: 2, grids: 1 });
    expect(await bus.join('g2', info('x'), sink().s)).toMatchObject({ ok: true });
    expect(await bus.join('g3', info('y'), sink().s)).toEqual({ ok: false, code: 'server-full' });
    expect(bus.relay('g2', 'a', 'x')).toBe(false);
    expect(bus.relay('g1', 'a', 'hi')).toBe(true);
    expect(a.got.at(-1)).toBe('hi');
  });
});
