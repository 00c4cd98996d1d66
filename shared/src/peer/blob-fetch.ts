/**
 * The fetching half of the blob exchange: one state machine per blob being
 * fetched. `pump` asks holders for pieces (peers first, the fetch's own
 * sources only for pieces no peer has or is getting), a piece not received
 * in time or refused is asked of another holder, each piece received is
 * announced to peers at once, and the whole blob is checked against its hash
 * before it is cached. A blob that fails the check after some piece came from
 * a peer still fetching is fetched again from complete holders only.
 */
import { PeerGridError } from '../errors.ts';
import type { Random, Sha256Hex, Timers } from '../platform.ts';
import type { BlobCache } from './blob-cache.ts';
import type { BlobHolders, FetchPlan } from './blob-pieces.ts';
import { sendQuietly } from './blob-upload.ts';
import type { PeerLink } from './link.ts';
import type { ChunkMessage, PeerMessage } from './messages.ts';

export interface BlobFetchContext {
  readonly cache: BlobCache;
  readonly sha256: Sha256Hex;
  readonly timers: Timers;
  /** Picks where a fetch starts in the blob; without it, at piece 0. */
  readonly random: Random | undefined;
  readonly holders: BlobHolders;
  readonly pieceBytes: number;
  /** Pieces requested from one holder at once. */
  readonly maxInFlight: number;
  /** A piece not received by then is asked of another holder. */
  readonly pieceTimeoutMs: number;
  /** Counters this side adds to. */
  readonly stats: { downloadedBytes: number; rejectedBlobs: number };
  /** Marks a verified, cached blob as held and announces it to every link. */
  readonly announce: (hash: string) => void;
}

export interface Fetch extends FetchPlan {
  readonly buf: Uint8Array;
  readonly inflight: Map<number, { link: PeerLink; timer: unknown }>;
  readonly failed: Set<PeerLink>;
  /** Pieces received (1) so far, by number. */
  readonly got: Uint8Array;
  /** Some piece came from a peer still fetching. */
  usedPartial: boolean;
  done: number;
  readonly count: number;
  settle(err: Error | null): void;
  /** A timer to look again at pieces left to peers that said they were getting them. */
  retry: unknown;
  /** Ends this fetch with the outcome of another (a retry). */
  adopt(next: Promise<Uint8Array>): void;
}

/** Pieces asked of a fetch's own source at once while other peers fetch the blob too. */
const SOURCE_IN_FLIGHT_WITH_PEERS = 1;

export function createBlobFetcher(c: BlobFetchContext) {
  const { cache, sha256, timers, holders, pieceBytes, maxInFlight, pieceTimeoutMs } = c;
  const { links } = holders;
  const s = c.stats;
  const fetches = new Map<string, Fetch>();

  function pump(f: Fetch): void {
    const peers = holders.partial(f);
    const complete = holders.complete(f);
    const order = [...peers.filter((l) => !complete.includes(l)), ...complete];
    // While other peers fetch it too, a source gets few wants at a time:
    // pieces then come from it once each and spread from peer to peer.
    const sourceCap = holders.shared(f.hash) ? SOURCE_IN_FLIGHT_WITH_PEERS : maxInFlight;
    const coming: number[] = [];
    for (const link of order) {
      let inflight = 0;
      for (const p of f.inflight.values()) if (p.link === link) inflight++;
      const cap = f.extra.includes(link) ? sourceCap : maxInFlight;
      while (inflight < cap && f.todo.length > 0) {
        const piece = holders.pick(f, link);
        if (piece === undefined) break;
        if (f.extra.includes(link)) coming.push(piece);
        const offset = piece * pieceBytes;
        const length = Math.min(pieceBytes, f.buf.byteLength - offset);
        const timer = timers.setTimeout(() => giveUp(f, link), pieceTimeoutMs);
        f.inflight.set(piece, { link, timer });
        inflight++;
        link.send({ type: 'want', hash: f.hash, offset, length }).catch(() => giveUp(f, link));
      }
    }
    if (coming.length > 0) announcePieces(f, coming, true);
    if (f.todo.length === 0 || f.inflight.size > 0) return;
    if (complete.length > 0) {
      // Pieces left to peers that said they are getting them: look again when those marks expire.
      if (f.retry === undefined)
        f.retry = timers.setTimeout(() => {
          f.retry = undefined;
          if (fetches.get(f.hash) === f) pump(f);
        }, pieceTimeoutMs);
      return;
    }
    // Nobody holds the whole blob: wait for peers' pieces only while some peer has a piece we lack.
    if (!f.todo.some((piece) => peers.some((p) => holders.holds(p, f.hash, piece))))
      f.settle(new PeerGridError('blob-unavailable', `no peer could serve blob ${f.hash}`));
  }

  /** Tells peers (not the fetch's sources, not complete holders) about pieces held or coming. */
  function announcePieces(f: Fetch, list: number[], coming: boolean): void {
    const msg: PeerMessage = {
      type: 'pieces',
      hash: f.hash,
      total: f.buf.byteLength,
      pieces: list,
      ...(coming ? { coming: true } : {}),
    };
    for (const l of links)
      if (!f.extra.includes(l) && !holders.hasWhole(l, f.hash)) void sendQuietly(l, msg);
  }

  /** Stops asking `link` for this blob and puts its pieces back in the queue. */
  function giveUp(f: Fetch, link: PeerLink): void {
    if (fetches.get(f.hash) !== f) return;
    f.failed.add(link);
    for (const [piece, p] of f.inflight) {
      if (p.link !== link) continue;
      timers.clearTimeout(p.timer);
      f.inflight.delete(piece);
      f.todo.unshift(piece);
    }
    pump(f);
  }

  function onChunk(link: PeerLink, msg: ChunkMessage): void {
    const f = fetches.get(msg.hash);
    if (!f || msg.offset % pieceBytes !== 0) return;
    const piece = msg.offset / pieceBytes;
    const p = f.inflight.get(piece);
    if (!p || p.link !== link) return;
    const length = Math.min(pieceBytes, f.buf.byteLength - msg.offset);
    if (msg.total !== f.buf.byteLength || msg.data.byteLength !== length) {
      giveUp(f, link);
      return;
    }
    timers.clearTimeout(p.timer);
    f.inflight.delete(piece);
    f.buf.set(msg.data, msg.offset);
    f.got[piece] = 1;
    if (!f.extra.includes(link) && !holders.hasWhole(link, f.hash)) f.usedPartial = true;
    s.downloadedBytes += length;
    f.done++;
    if (f.done === f.count) void finish(f);
    else {
      announcePieces(f, [piece], false);
      pump(f);
    }
  }

  async function finish(f: Fetch): Promise<void> {
    const actual = await sha256(f.buf);
    if (actual !== f.hash) {
      s.rejectedBlobs++;
      if (f.usedPartial && !f.completeOnly) {
        // Some peer still fetching passed on bad bytes: again, from complete holders only.
        return f.adopt(startFetch(f.hash, f.buf.byteLength, f.extra, true));
      }
      return f.settle(
        new PeerGridError('hash-mismatch', `blob ${f.hash} arrived with hash ${actual}`),
      );
    }
    await cache.put(f.hash, f.buf);
    c.announce(f.hash);
    f.settle(null);
  }

  /** The buffer of a fetch in progress when it holds the piece at `offset` (`length` within it). */
  function arrivedPiece(hash: string, offset: number, length: number): Uint8Array | undefined {
    const f = fetches.get(hash);
    if (!f || offset % pieceBytes !== 0 || length > pieceBytes) return undefined;
    return f.got[offset / pieceBytes] === 1 ? f.buf : undefined;
  }

  /** Fetches `hash` (`total` bytes) from holders and `extra` (its sources); settles once verified. */
  function startFetch(
    hash: string,
    total: number,
    extra: readonly PeerLink[],
    completeOnly = false,
  ): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const count = Math.max(1, Math.ceil(total / pieceBytes));
      const first = c.random ? Math.floor(c.random() * count) % count : 0;
      const f: Fetch = {
        hash,
        buf: new Uint8Array(total),
        todo: Array.from({ length: count }, (_, i) => (first + i) % count),
        inflight: new Map(),
        failed: new Set(),
        extra,
        got: new Uint8Array(count),
        completeOnly,
        usedPartial: false,
        retry: undefined,
        done: 0,
        count,
        settle(err) {
          if (fetches.get(hash) !== f) return;
          fetches.delete(hash);
          for (const p of f.inflight.values()) timers.clearTimeout(p.timer);
          if (f.retry !== undefined) timers.clearTimeout(f.retry);
          if (err) reject(err);
          else resolve(f.buf);
        },
        adopt(next) {
          if (fetches.get(hash) === f) fetches.delete(hash);
          if (f.retry !== undefined) timers.clearTimeout(f.retry);
          next.then(resolve, reject);
        },
      };
      fetches.set(hash, f);
      if (total === 0) void finish(f);
      else pump(f);
    });
  }

  /** Fetches in progress, by hash. */
  const active: ReadonlyMap<string, Fetch> = fetches;
  return { fetches: active, pump, giveUp, onChunk, arrivedPiece, startFetch };
}
