/**
 * The fetching half of the blob exchange: one state machine per blob being
 * fetched. `pump` asks holders for pieces, one per holder per round (peers
 * first; of the fetch's own sources, while peers fetch the blob too, one piece
 * no peer has or is getting, plus one spare want: a piece peers hold, or at
 * the end a piece a peer still owes, asked again). A piece not received in
 * time or refused is asked of another holder, each piece received is
 * announced to peers at once, and the whole blob is checked against its hash;
 * then it is announced and returned, and served from memory until the cache
 * has written it. A blob that fails the check after some piece came from a
 * peer still fetching is fetched again from complete holders only.
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
  /** Pieces asked for, by number: of whom, and whether as a source's spare want. */
  readonly inflight: Map<number, { link: PeerLink; timer: unknown; spare: boolean }>;
  /**
   * Pieces asked of a source a second time, near the end, while a peer still
   * owes them (the first chunk to arrive counts): by number.
   */
  readonly again: Map<number, { link: PeerLink; timer: unknown }>;
  readonly failed: Set<PeerLink>;
  /** Pieces received (1) so far, by number. */
  readonly got: Uint8Array;
  /** Some piece came from a peer still fetching. */
  usedPartial: boolean;
  /** Pieces the fetch's sources have sent it so far. */
  fromSource: number;
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
/** Pieces asked of one peer still fetching at once (its uplink serves several peers). */
const PARTIAL_IN_FLIGHT = 2;

export function createBlobFetcher(c: BlobFetchContext) {
  const { cache, sha256, timers, holders, pieceBytes, maxInFlight, pieceTimeoutMs } = c;
  const { links } = holders;
  const s = c.stats;
  const fetches = new Map<string, Fetch>();
  /** Verified blobs whose cache write is under way. */
  const saving = new Map<string, Uint8Array>();

  function pump(f: Fetch): void {
    const peers = holders.partial(f);
    const complete = holders.complete(f);
    const order = [...peers.filter((l) => !complete.includes(l)), ...complete];
    // While other peers fetch it too, a source gets few wants at a time:
    // pieces then come from it once each and spread from peer to peer. A fetch
    // asks its source for one piece until the first arrives: peers that start at
    // the same moment hear of each other's pieces before they ask for more.
    const shared = holders.shared(f.hash);
    const sourceCap = shared || f.fromSource === 0 ? SOURCE_IN_FLIGHT_WITH_PEERS : maxInFlight;
    const coming: number[] = [];
    const asked = new Map<PeerLink, number>();
    /** Sources with a spare want in flight (or a want that has become one). */
    const spareAsked = new Set<PeerLink>();
    for (const [piece, p] of f.inflight) {
      // A source's want for a piece some peer has since got counts as the spare one: the
      // source serves it after new pieces, and it must not hold back the next new piece.
      const spare =
        p.spare ||
        (f.extra.includes(p.link) && [...links].some((l) => holders.holds(l, f.hash, piece)));
      if (spare) spareAsked.add(p.link);
      else asked.set(p.link, (asked.get(p.link) ?? 0) + 1);
    }
    for (const p of f.again.values()) spareAsked.add(p.link);
    const capOf = (l: PeerLink) =>
      f.extra.includes(l)
        ? sourceCap
        : complete.includes(l)
          ? maxInFlight
          : Math.min(maxInFlight, PARTIAL_IN_FLIGHT);
    const ask = (link: PeerLink, piece: number, spare: boolean) => {
      if (f.extra.includes(link)) coming.push(piece);
      const offset = piece * pieceBytes;
      const length = Math.min(pieceBytes, f.buf.byteLength - offset);
      // A spare want waits behind new pieces at the source: late, it is dropped, not a failure.
      const timer = timers.setTimeout(
        () => (spare ? dropSpare(f, piece, link) : giveUp(f, link)),
        pieceTimeoutMs,
      );
      f.inflight.set(piece, { link, timer, spare });
      link.send({ type: 'want', hash: f.hash, offset, length }).catch(() => giveUp(f, link));
    };
    // One piece per holder per round: wants spread over holders instead of queueing at the first.
    for (let more = true; more && f.todo.length > 0; ) {
      more = false;
      for (const link of order) {
        const n = asked.get(link) ?? 0;
        if (n >= capOf(link) || f.todo.length === 0) continue;
        const piece = holders.pick(f, link);
        if (piece === undefined) continue;
        ask(link, piece, false);
        asked.set(link, n + 1);
        more = true;
      }
    }
    // Beside those, one spare want at a source the fetch shares with peers: a piece peers
    // already hold keeps its uplink busy to the end (it serves pieces it has not sent yet
    // first), and the want for a new piece never waits behind it. With nothing left to
    // ask for, the spare asks again for the piece a peer has owed longest.
    if (shared && f.fromSource > 0)
      for (const link of f.extra) {
        if (spareAsked.has(link) || !complete.includes(link)) continue;
        const piece = holders.pickHeld(f, link);
        if (piece !== undefined) ask(link, piece, true);
        else if (f.todo.length === 0) askAgain(f, link);
      }
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

  /** Asks source `link` for the oldest piece owed by a peer (not a source) and not asked again. */
  function askAgain(f: Fetch, link: PeerLink): void {
    for (const [piece, p] of f.inflight) {
      if (f.extra.includes(p.link) || f.again.has(piece)) continue;
      const offset = piece * pieceBytes;
      const length = Math.min(pieceBytes, f.buf.byteLength - offset);
      const timer = timers.setTimeout(() => {
        if (f.again.get(piece)?.link === link) f.again.delete(piece);
      }, pieceTimeoutMs);
      f.again.set(piece, { link, timer });
      link.send({ type: 'want', hash: f.hash, offset, length }).catch(() => giveUp(f, link));
      return;
    }
  }

  /** Forgets a spare want that `link` has not answered in time; its piece is asked for anew. */
  function dropSpare(f: Fetch, piece: number, link: PeerLink): void {
    if (fetches.get(f.hash) !== f || f.inflight.get(piece)?.link !== link) return;
    f.inflight.delete(piece);
    f.todo.push(piece);
    pump(f);
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
    for (const [piece, p] of f.again) {
      if (p.link !== link) continue;
      timers.clearTimeout(p.timer);
      f.again.delete(piece);
    }
    for (const [piece, p] of f.inflight) {
      if (p.link !== link) continue;
      timers.clearTimeout(p.timer);
      f.inflight.delete(piece);
      const again = f.again.get(piece);
      if (again) {
        // Still asked of a source: that want now stands alone.
        f.again.delete(piece);
        f.inflight.set(piece, { ...again, spare: true });
      } else f.todo.unshift(piece);
    }
    pump(f);
  }

  function onChunk(link: PeerLink, msg: ChunkMessage): void {
    const f = fetches.get(msg.hash);
    if (!f || msg.offset % pieceBytes !== 0) return;
    const piece = msg.offset / pieceBytes;
    const first = f.inflight.get(piece);
    const again = f.again.get(piece);
    const p = first?.link === link ? first : again?.link === link ? again : undefined;
    if (!p) return;
    const length = Math.min(pieceBytes, f.buf.byteLength - msg.offset);
    if (msg.total !== f.buf.byteLength || msg.data.byteLength !== length) {
      giveUp(f, link);
      return;
    }
    for (const q of [first, again]) if (q) timers.clearTimeout(q.timer);
    f.inflight.delete(piece);
    f.again.delete(piece);
    f.buf.set(msg.data, msg.offset);
    f.got[piece] = 1;
    if (f.extra.includes(link)) f.fromSource++;
    else if (!holders.hasWhole(link, f.hash)) f.usedPartial = true;
    s.downloadedBytes += length;
    f.done++;
    if (f.done === f.count) finishSafely(f);
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
    // Verified: held, announced and used now; served from memory until the cache has it
    // (a disk cache's write and fsync take a while). A failed write leaves it uncached.
    saving.set(f.hash, f.buf);
    c.announce(f.hash);
    f.settle(null);
    try {
      await cache.put(f.hash, f.buf);
    } catch {
      // Not cached: fetched again when next needed.
    } finally {
      saving.delete(f.hash);
    }
  }

  /** Runs `finish`; a hash that cannot be computed fails the fetch. */
  function finishSafely(f: Fetch): void {
    finish(f).catch((err: unknown) =>
      f.settle(err instanceof Error ? err : new PeerGridError('hash-mismatch', String(err))),
    );
  }

  /** A verified blob still being written to the cache. */
  const verified = (hash: string): Uint8Array | undefined => saving.get(hash);

  /** The buffer of a fetch in progress when it holds the piece at `offset` (`length` within it). */
  function arrivedPiece(hash: string, offset: number, length: number): Uint8Array | undefined {
    const whole = saving.get(hash);
    if (whole) return whole;
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
        again: new Map(),
        failed: new Set(),
        extra,
        got: new Uint8Array(count),
        completeOnly,
        usedPartial: false,
        fromSource: 0,
        retry: undefined,
        done: 0,
        count,
        settle(err) {
          if (fetches.get(hash) !== f) return;
          fetches.delete(hash);
          for (const p of [...f.inflight.values(), ...f.again.values()])
            timers.clearTimeout(p.timer);
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
      if (total === 0) finishSafely(f);
      else pump(f);
    });
  }

  /** Fetches in progress, by hash. */
  const active: ReadonlyMap<string, Fetch> = fetches;
  return { fetches: active, pump, giveUp, onChunk, arrivedPiece, verified, startFetch };
}
