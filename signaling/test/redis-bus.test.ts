import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createIdentity } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSignalingServer } from '../src/server.ts';
import {
  caps,
  client,
  handshake,
  joinRaw,
  openRaw,
  ready,
  startTestServer,
  subtle,
  until,
  wsUrl,
} from './helpers.ts';
import { type RedisProcess, startRedis } from './redis-process.ts';

let redis: RedisProcess;
const children: ChildProcess[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await redis?.stop();
});

const prefix = () => `t${randomBytes(4).toString('hex')}:`;

/** One `peergrid-signaling --redis` process; resolves with its ws:// URL. */
function startInstance(keyPrefix: string, extra: string[] = []) {
  const bin = resolve(import.meta.dirname, '../bin/peergrid-signaling.js');
  const args = ['--port', '0', '--host', '127.0.0.1', '--redis', redis.url];
  args.push('--redis-prefix', keyPrefix, '--redis-heartbeat-ms', '150', ...extra);
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  return new Promise<{ proc: ChildProcess; url: string }>((ok, fail) => {
    let out = '';
    proc.stdout?.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http(:\/\/[^\s]+)/);
      if (m) ok({ proc, url: `ws${m[1]}` });
    });
    proc.on('exit', (code) => fail(new Error(`instance exited with ${code}: ${out}`)));
  });
}

describe('two instances sharing Redis (in-process)', () => {
  let a: RunningSignalingServer;
  let b: RunningSignalingServer;
  beforeAll(async () => {
    const opts = { redis: redis.url, redisKeyPrefix: prefix(), redisHeartbeatMs: 150 };
    [a, b] = await Promise.all([
      startTestServer({ ...opts, limits: { peersPerGrid: 3 } }),
      startTestServer({ ...opts, limits: { peersPerGrid: 3 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('peers on different instances see each other join, update, relay and leave', async () => {
    const x = await client(wsUrl(a), 'cross');
    const y = await client(wsUrl(b), 'cross');
    await Promise.all([ready(x), ready(y)]);
    await until(() => x.peers().has(y.selfId) && y.peers().has(x.selfId), 3000, 'presence');
    expect(a.bus.stats()).toEqual({ peers: 1, grids: 1 });
    expect(b.bus.stats()).toEqual({ peers: 1, grids: 1 });

    const got = new Promise((ok) => y.onSignal((from, data) => ok({ from, data })));
    x.sendSignal(y.selfId, { type: 'offer', sdp: 'v=0 across' });
    expect(await got).toEqual({ from: x.selfId, data: { type: 'offer', sdp: 'v=0 across' } });
    const back = new Promise((ok) => x.onSignal((from, data) => ok({ from, data })));
    y.sendSignal(x.selfId, 'answer');
    expect(await back).toEqual({ from: y.selfId, data: 'answer' });

    const updated = new Promise((ok) => y.on('peer-updated', ok));
    x.updateCapabilities(caps(12));
    expect(await updated).toMatchObject({ id: x.selfId, capabilities: { cores: 12 } });

    const left = new Promise((ok) => y.on('peer-left', ok));
    x.close();
    expect(await left).toBe(x.selfId);
    y.close();
    await until(() => a.bus.stats().peers + b.bus.stats().peers === 0, 3000, 'all left');
  });

  it('refuses a relay into another grid across instances', async () => {
    const p = await joinRaw(wsUrl(a), 'iso-1');
    const q = await joinRaw(wsUrl(b), 'iso-2');
    p.send({ type: 'signal', to: q.id, data: 'sneak' });
    expect(await p.next('error')).toMatchObject({ code: 'unknown-peer' });
    await new Promise((r) => setTimeout(r, 100));
    expect(q.got.some((m) => m.type === 'signal')).toBe(false);
    p.ws.close();
    q.ws.close();
  });

  it('the same key joining on another instance replaces the first socket', async () => {
    const me = await createIdentity(subtle);
    const watcher = await joinRaw(wsUrl(b), 'swap');
    const first = await joinRaw(wsUrl(a), 'swap', me);
    await watcher.next('peer-joined');
    const second = await joinRaw(wsUrl(b), 'swap', me);
    expect(second.id).toBe(first.id);
    expect(await first.next('error')).toMatchObject({ code: 'replaced' });
    await until(() => first.closeCode === 4001, 2000, 'replaced close');
    expect(await watcher.next('peer-updated')).toMatchObject({ peer: { id: me.id } });
    watcher.send({ type: 'signal', to: me.id, data: 'to-new' });
    expect(await second.next('signal')).toMatchObject({ from: watcher.id, data: 'to-new' });
    await new Promise((r) => setTimeout(r, 100));
    expect(watcher.got.some((m) => m.type === 'peer-left')).toBe(false);
    expect(a.bus.stats().peers).toBe(0);
    watcher.ws.close();
    second.ws.close();
  });

  it('a join captured on one instance cannot be replayed on another', async () => {
    const victim = await createIdentity(subtle);
    const v = await openRaw(wsUrl(a));
    const captured = await handshake(v, victim, 'replay');
    await v.next('joined');
    const attacker = await openRaw(wsUrl(b));
    attacker.send({ type: 'hello', grid: 'replay' });
    await attacker.next('challenge');
    attacker.send(captured);
    expect(await attacker.next('error')).toMatchObject({ code: 'bad-signature' });
    await until(() => attacker.closeCode !== null, 2000, 'attacker closed');
    expect(v.closeCode).toBeNull();
    v.ws.close();
  });

  it('holds peersPerGrid over all instances', async () => {
    const p1 = await joinRaw(wsUrl(a), 'small');
    const p2 = await joinRaw(wsUrl(b), 'small');
    const p3 = await joinRaw(wsUrl(a), 'small');
    const fourth = await openRaw(wsUrl(b));
    await handshake(fourth, await createIdentity(subtle), 'small');
    expect(await fourth.next('error')).toMatchObject({ code: 'grid-full' });
    await until(() => fourth.closeCode !== null, 2000, 'refused close');
    // A slot freed on one instance is usable on the other.
    p1.ws.close();
    await until(() => p2.got.some((m) => m.type === 'peer-left'), 3000, 'leave seen');
    const p4 = await joinRaw(wsUrl(b), 'small');
    expect(p4.got.find((m) => m.type === 'joined')?.peers).toHaveLength(2);
    for (const p of [p2, p3, p4]) p.ws.close();
  });
});

describe('an instance dies (child processes)', () => {
  it('only its peers drop, survivors see them leave, and clients reconnect elsewhere', async () => {
    const keyPrefix = prefix();
    const [one, two] = await Promise.all([startInstance(keyPrefix), startInstance(keyPrefix)]);
    const mover = await client(one.url, 'die', { fallbackUrls: [two.url] });
    const stayer = await client(two.url, 'die', { fallbackUrls: [one.url] });
    const lost = await joinRaw(one.url, 'die'); // a raw peer that never reconnects
    await Promise.all([ready(mover), ready(stayer)]);
    await until(() => stayer.peers().size === 2, 3000, 'full presence');
    let stayerReconnects = 0;
    stayer.on('reconnecting', () => stayerReconnects++);
    const left: string[] = [];
    stayer.on('peer-left', (id) => left.push(id));
    let moverReady = 0;
    mover.on('ready', () => moverReady++);

    one.proc.kill('SIGKILL');
    await until(() => left.includes(lost.id), 5000, 'dead peer reported left');
    await until(() => moverReady > 0, 5000, 'mover rejoined on the survivor');
    expect(mover.selfId).toMatch(/^[a-z2-7]{32}$/);
    expect(stayerReconnects).toBe(0);
    expect(stayer.connected).toBe(true);
    // The mover's id is present on the survivor and reachable both ways.
    await until(() => stayer.peers().has(mover.selfId), 3000, 'mover present');
    expect([...stayer.peers().keys()]).toEqual([mover.selfId]);
    expect(mover.peers().has(stayer.selfId)).toBe(true);
    const got = new Promise((ok) => mover.onSignal((from, data) => ok({ from, data })));
    stayer.sendSignal(mover.selfId, 'still there?');
    expect(await got).toEqual({ from: stayer.selfId, data: 'still there?' });
    // A later cleanup round must not remove the mover (its entry now belongs to the survivor).
    await new Promise((r) => setTimeout(r, 800));
    expect(stayer.peers().has(mover.selfId)).toBe(true);
    mover.close();
    stayer.close();
    two.proc.kill('SIGTERM');
  });
});
