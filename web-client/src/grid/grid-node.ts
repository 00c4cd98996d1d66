import type {
  Capabilities,
  DonorCredit,
  GridPeer,
  IceServer,
  Identity,
  JobStore,
  PeerId,
  PeerInfo,
  SignalingClient,
  SimplePeerConstructor,
  SubtleLike,
} from '@peergrid/shared';
import {
  createGridPeer,
  createIdentity,
  createPeerPool,
  createSignalingClient,
  importIdentity,
} from '@peergrid/shared';
import SimplePeer from 'simple-peer';
import type { WorkerPool } from '../exec/worker-pool.ts';
import type { UrlOptions } from '../lib/url-options.ts';
import { coalesce } from '../state/coalesce.ts';
import type { SignalStatus } from '../state/types.ts';
import { createDonorSide, type DonorCounters, type DonorSide } from './donor-side.ts';
import { createLoopback } from './loopback.ts';
import type { PageDb } from './page-db.ts';
import { now, random, sha256, timers } from './platform.ts';
import { createSelfView, type SelfView } from './self-presence.ts';
import { claimIdentitySlot } from './tab-locks.ts';

/** What the grid layer tells the page. */
export interface GridEvents {
  status(s: SignalStatus, error: string | null): void;
  /** The peer list or a connection changed. */
  mesh(): void;
  donor(c: DonorCounters): void;
}

/** This tab as a member of the grid: identity, signaling, WebRTC links, donor agent. */
export interface GridNode {
  readonly identity: Identity;
  readonly signaling: SignalingClient;
  /** Signaling, pool and blob exchange (shared `createGridPeer`). */
  readonly peer: GridPeer;
  /** The grid as this tab's job runners see it: with this tab as a donor (loopback link). */
  readonly submitterView: SelfView;
  readonly donor: DonorSide;
  capabilities(): Capabilities;
  /** Re-announces capabilities (workers, pause, GPU changed) to the grid and to own jobs. */
  announce(): void;
  peers(): ReadonlyMap<PeerId, PeerInfo>;
  close(): void;
}

export interface GridNodeOptions {
  readonly options: UrlOptions;
  readonly store: JobStore;
  readonly db: PageDb;
  readonly executor: WorkerPool;
  readonly paused: () => boolean;
  readonly events: GridEvents;
  /** This tab's identity slot, when claimed ahead (beside opening storage). Default: claimed here. */
  readonly identitySlot?: Promise<number>;
}

/**
 * This tab's identity: slot 0 is the profile's key in the job store; further
 * tabs open at once get keys of their own (kept in the page database), so
 * each tab is its own peer with its own reputation.
 */
export async function loadIdentity(
  store: JobStore,
  db: PageDb,
  identitySlot: Promise<number> = claimIdentitySlot(),
): Promise<Identity> {
  const subtle = crypto.subtle as unknown as SubtleLike;
  const slot = await identitySlot;
  const saved =
    slot === 0 ? await store.getIdentity() : slot > 0 ? await db.getIdentity(slot) : undefined;
  if (saved) {
    try {
      return await importIdentity(subtle, saved);
    } catch {
      // A damaged key: start over with a new identity (reputation starts over too).
    }
  }
  const id = await createIdentity(subtle);
  const jwk = await id.export();
  if (slot === 0) await store.setIdentity(jwk);
  else if (slot > 0) await db.setIdentity(slot, jwk);
  return id;
}

/** The donor's credit is written to the page database at most this often, ms. */
const CREDIT_SAVE_MS = 1000;

export async function createGridNode(o: GridNodeOptions): Promise<GridNode> {
  const identity = await loadIdentity(o.store, o.db, o.identitySlot);
  performance.mark('peergrid:identity');

  const memoryMB = Math.round(
    ((navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 4) * 512,
  );
  const capabilities = (): Capabilities => {
    const s = o.executor.state();
    return {
      runtime: 'browser',
      backends: s.backends,
      cores: navigator.hardwareConcurrency || 2,
      memoryMB,
      maxConcurrency: o.paused() ? 0 : s.size,
    };
  };
  const signaling = createSignalingClient({
    url: o.options.signalUrl,
    grid: o.options.grid,
    identity,
    capabilities: capabilities(),
    ...(o.options.token ? { token: o.options.token } : {}),
    WebSocket: WebSocket as unknown as new (url: string) => object,
    timers,
    random,
    now,
  });
  // The pool reads its ICE servers at each new connection; the server hands them out on join.
  const iceServers: IceServer[] = [];
  const pool = createPeerPool({
    signal: signaling,
    SimplePeer: SimplePeer as unknown as SimplePeerConstructor,
    iceServers,
    now,
    timers,
    // Every link is bound to the peer's key: our descriptions signed, theirs checked.
    auth: { identity, subtle: crypto.subtle as unknown as SubtleLike },
    ...(o.options.iceRelay ? { iceTransportPolicy: 'relay' as const } : {}),
  });
  const peer = createGridPeer({
    signaling,
    pool,
    cache: o.db.models,
    sha256,
    now,
    timers,
    blobOptions: { random },
  });
  let credit: DonorCredit | undefined;
  /** Nothing is written before the earlier credit is read (and added): it would be lost. */
  let earlierRead = false;
  const saveCredit = coalesce(
    () => {
      if (credit && earlierRead)
        void o.db.putCredit(identity.id, credit, o.options.grid).catch(() => {});
    },
    CREDIT_SAVE_MS,
    timers,
  );
  const donor = createDonorSide({
    executor: o.executor,
    blobs: peer.blobs,
    sha256,
    now,
    onChange: o.events.donor,
    onCredit: (c) => {
      credit = c;
      saveCredit.schedule();
    },
  });
  // Earlier sessions' credit, read while the tab joins (never awaited on the way: the
  // handlers below must be in place before the signaling client can be ready).
  void o.db
    .getCredit(identity.id)
    .catch(() => undefined)
    .then((earlier) => {
      earlierRead = true;
      if (earlier) donor.addEarlierCredit(earlier);
      else if (credit) saveCredit.schedule();
    });
  const loop = createLoopback(identity.id, now, timers);
  donor.attach(loop.donor);
  for (const link of pool.links()) donor.attach(link);
  pool.on('link-open', (link) => {
    donor.attach(link);
    o.events.mesh();
  });
  pool.on('link-closed', () => o.events.mesh());
  pool.on('link-refused', () => o.events.mesh());

  const submitterView = createSelfView({
    signaling,
    pool,
    loopback: loop.submitter,
    self: () => ({
      id: identity.id,
      publicKey: identity.publicKeyText,
      capabilities: capabilities(),
    }),
  });

  signaling.on('ready', () => {
    iceServers.splice(0, iceServers.length, ...signaling.iceServers);
    o.events.status('online', null);
    o.events.mesh();
  });
  for (const ev of ['peer-joined', 'peer-updated', 'peer-left'] as const)
    signaling.on(ev, () => o.events.mesh());
  signaling.on('reconnecting', () => o.events.status('reconnecting', null));
  signaling.on('error', (e) =>
    o.events.status(signaling.connected ? 'online' : 'reconnecting', `${e.code}: ${e.message}`),
  );
  signaling.on('closed', (e) => o.events.status('error', `${e.code}: ${e.message}`));

  return {
    identity,
    signaling,
    peer,
    submitterView,
    donor,
    capabilities,
    announce() {
      signaling.updateCapabilities(capabilities());
      submitterView.selfChanged();
    },
    peers: () => signaling.peers(),
    close() {
      donor.close();
      peer.close();
      loop.submitter.close();
      loop.donor.close();
    },
  };
}
