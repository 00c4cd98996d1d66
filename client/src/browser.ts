/**
 * `@peergrid/client` in a browser page: joins a grid as a submitter over the
 * page's own WebRTC (simple-peer) and keeps jobs in IndexedDB, so a reloaded
 * page resumes them with `submit` of the same job or `resume(id)`. The
 * identity is kept in the same database: reputation and ids survive reloads.
 * Browsers have no local anchor: results become final through donors'
 * audited records, or the policy's `trustedDonors`.
 */
import {
  createGridClient,
  createGridPeer,
  createIdentity,
  createMemoryBlobCache,
  createPeerPool,
  createSignalingClient,
  cryptoRandom,
  type GridClient,
  GridClientError,
  type IceServer,
  importIdentity,
  type JobStore,
  type SimplePeerConstructor,
  type SubtleLike,
  type Timers,
} from '@peergrid/shared';
import { openIdbJobStore } from '@peergrid/shared/idb-store';
import SimplePeer from 'simple-peer';

import type { ConnectOptionsBase } from './api.ts';

export * from './api.ts';

export interface ConnectGridOptions extends ConnectOptionsBase {
  /** An IndexedDB database name, or a `JobStore`. Default: the database `peergrid-client`. */
  readonly store?: string | JobStore;
}

const timers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Joins the grid; throws a `GridClientError` (`connect-failed`, `store-failed`). */
export async function connectGrid(o: ConnectGridOptions): Promise<GridClient> {
  const grid = o.grid ?? 'default';
  const ownStore = typeof o.store !== 'object';
  let store: JobStore;
  try {
    store =
      typeof o.store === 'object'
        ? o.store
        : await openIdbJobStore({ name: o.store ?? 'peergrid-client' });
  } catch (err) {
    throw new GridClientError('store-failed', `cannot open IndexedDB: ${(err as Error).message}`);
  }
  const subtle = crypto.subtle as unknown as SubtleLike;
  const saved = await store.getIdentity();
  const identity = saved ? await importIdentity(subtle, saved) : await createIdentity(subtle);
  if (!saved) await store.setIdentity(await identity.export());
  const now = () => Date.now();
  const signaling = createSignalingClient({
    url: o.signal,
    grid,
    identity,
    capabilities: { runtime: 'browser', backends: [], cores: 1, memoryMB: 0, maxConcurrency: 0 },
    ...(o.token !== undefined ? { token: o.token } : {}),
    WebSocket: WebSocket as unknown as new (url: string) => object,
    timers,
    random: cryptoRandom,
    now,
  });
  const iceServers: IceServer[] = [];
  const pool = createPeerPool({
    signal: signaling,
    SimplePeer: SimplePeer as unknown as SimplePeerConstructor,
    iceServers,
    now,
    timers,
    // Our descriptions signed with our identity key; peers' checked against theirs.
    auth: { identity, subtle },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const ms = o.joinTimeoutMs ?? 15_000;
      const timer = setTimeout(() => {
        off();
        reject(new Error(`could not join grid '${grid}' at ${o.signal} in ${ms} ms`));
      }, ms);
      const offs = [
        signaling.on('ready', () => {
          iceServers.splice(0, iceServers.length, ...signaling.iceServers);
          off();
          resolve();
        }),
        signaling.on('closed', (e) => {
          off();
          reject(new Error(`signaling refused: ${e.code}: ${e.message}`));
        }),
      ];
      const off = () => {
        clearTimeout(timer);
        for (const f of offs) f();
      };
    });
  } catch (err) {
    pool.close();
    signaling.close();
    if (ownStore) await store.close().catch(() => {});
    throw new GridClientError('connect-failed', (err as Error).message);
  }
  const peer = createGridPeer({
    signaling,
    pool,
    cache: createMemoryBlobCache(),
    sha256,
    now,
    timers,
    blobOptions: { random: cryptoRandom },
  });
  return createGridClient({
    peer,
    store,
    platform: { sha256, now, random: cryptoRandom, timers },
    closePeer: () => peer.close(),
    closeStore: ownStore,
  });
}
