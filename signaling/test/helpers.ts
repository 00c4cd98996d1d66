import { resolve } from 'node:path';
import {
  type Capabilities,
  createIdentity,
  createSignalingClient,
  type Identity,
  type SignalingClient,
  type SignalingClientOptions,
  type SubtleLike,
  signChallenge,
} from '@peergrid/shared';
import { WebSocket } from 'ws';
import type { SignalingServerOptions } from '../src/options.ts';
import { type RunningSignalingServer, startSignalingServer } from '../src/server.ts';

export const subtle = globalThis.crypto.subtle as unknown as SubtleLike;
export const FIXTURE_SITE = resolve(import.meta.dirname, 'fixtures/site');
export const caps = (cores = 2): Capabilities => ({
  runtime: 'node',
  backends: ['cpu'],
  cores,
  memoryMB: 512,
  maxConcurrency: 1,
});

export function startTestServer(
  opts: SignalingServerOptions = {},
): Promise<RunningSignalingServer> {
  return startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: FIXTURE_SITE, ...opts });
}

export const wsUrl = (s: RunningSignalingServer) => s.url.replace('http', 'ws');

/** Polls until `fn` is truthy. */
export async function until<T>(
  fn: () => T,
  ms = 5000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A bare socket that records every server message, for speaking the protocol by hand. */
export interface RawPeer {
  readonly ws: WebSocket;
  readonly got: Record<string, unknown>[];
  closeCode: number | null;
  send(msg: unknown): void;
  next(type: string, ms?: number): Promise<Record<string, unknown>>;
}

export async function openRaw(
  url: string,
  wsOpts: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<RawPeer> {
  const ws = new WebSocket(url, wsOpts);
  const peer: RawPeer = {
    ws,
    got: [],
    closeCode: null,
    send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    async next(type, ms = 5000) {
      const m = await until(() => peer.got.find((x) => x.type === type && !used.has(x)), ms, type);
      used.add(m);
      return m;
    },
  };
  const used = new Set<object>();
  ws.on('message', (d) => peer.got.push(JSON.parse(d.toString())));
  ws.on('close', (code) => {
    peer.closeCode = code;
  });
  ws.on('error', () => {});
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', fail);
  });
  return peer;
}

/** hello → challenge → join; returns the join message sent (for replay tests). */
export async function handshake(
  peer: RawPeer,
  identity: Identity,
  grid: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  peer.send({ type: 'hello', grid });
  const ch = await peer.next('challenge');
  const signature = await signChallenge(identity, {
    serverId: String(ch.serverId),
    grid,
    nonce: String(ch.nonce),
  });
  const join = {
    type: 'join',
    grid,
    publicKey: identity.publicKeyText,
    signature,
    capabilities: caps(),
    ...extra,
  };
  peer.send(join);
  return join;
}

export async function joinRaw(
  url: string,
  grid: string,
  identity?: Identity,
): Promise<RawPeer & { id: string; identity: Identity }> {
  const id = identity ?? (await createIdentity(subtle));
  const peer = await openRaw(url);
  await handshake(peer, id, grid);
  const joined = await peer.next('joined');
  return Object.assign(peer, { id: String(joined.id), identity: id });
}

export async function client(
  url: string,
  grid: string,
  extra: Partial<SignalingClientOptions> = {},
): Promise<SignalingClient> {
  return createSignalingClient({
    url,
    grid,
    identity: extra.identity ?? (await createIdentity(subtle)),
    capabilities: caps(),
    WebSocket,
    timers: {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    random: Math.random,
    now: () => performance.now(),
    reconnectBaseMs: 50,
    reconnectMaxMs: 400,
    ...extra,
  });
}

export function ready(c: SignalingClient): Promise<void> {
  return new Promise((ok) => {
    if (c.connected) return ok();
    const off = c.on('ready', () => {
      off();
      ok();
    });
  });
}
