/**
 * Blob exchange: models travel by SHA-256 hash. A peer announces the blobs it
 * holds (`have`); a fetch splits a blob into pieces and asks every holder in
 * parallel (`want` → `chunk`), so donors that already hold a model serve it to
 * others (a swarm, not a star). Bytes are checked against the hash before they
 * are cached or used.
 *
 * A peer still fetching announces each piece it got (`pieces`) and serves it
 * at once, so a model spreads while it is still arriving. Each fetch starts
 * at its own piece (pieces spread over fetchers), asks peers first, and asks
 * the `sources` it was given (the submitter) only for pieces no peer
 * announced: the scarce uplink sends each piece about once. Pieces from
 * peers still fetching are unverified: a blob that then fails its hash check
 * is fetched again from complete holders only.
 */
import type { PeerId } from '../contracts.ts';
import { PeerGridError } from '../errors.ts';
import type { Now, Random, Sha256Hex, Timers } from '../platform.ts';
import type { BlobCache } from './blob-cache.ts';
import { createBlobHolders, type FetchPlan } from './blob-pieces.ts';
import { createBlobUpload, sendQuietly } from './blob-upload.ts';
import type { PeerLink } from './link.ts';
import type { ChunkMessage, PeerMessage } from './messages.ts';

export interface BlobExchangeOptions {
  readonly cache: BlobCache;
  readonly sha256: Sha256Hex;
  readonly now: Now;
  readonly timers: Timers;
  /** Bytes per `want`/`chunk`. Default 256 KiB. */
  readonly pieceBytes?: number;
  /** Pieces requested from one holder at once. Default 4. */
  readonly maxInFlightPerPeer?: number;
  /** A piece not received by then is asked of another holder. Default 15 000 ms. */
  readonly pieceTimeoutMs?: number;
  /** Largest blob fetched or served. Default 512 MiB. */
  readonly maxBlobBytes?: number;
  /** Cap on bytes/s this peer uploads (all links together). Default: none. */
  readonly uploadBytesPerSec?: number;
  /** `want`s queued for upload before more are refused with `blob-missing`. Default 256. */
  readonly maxQueuedWants?: number;
  /** Picks where a fetch starts in the blob (spreads pieces over fetchers). Default: at piece 0. */
  readonly random?: Random;
}

export interface BlobExchangeStats {
  readonly uploadedBytes: number;
  readonly downloadedBytes: number;
  readonly rejectedBlobs: number;
}

export interface BlobExchange {
  /** Serves and fetches over this link; announces held blobs to it. Returns detach. */
  attach(link: PeerLink): () => void;
  /**
   * The blob's bytes: from the cache, else fetched from `sources` and every
   * attached peer that announced it. Rejects `hash-mismatch`, `blob-unavailable`, `too-large`.
   */
  fetch(hash: string, totalBytes: number, sources?: readonly PeerLink[]): Promise<Uint8Array>;
  /** Hashes, caches and announces bytes we own (a submitter's model). Returns the hash. */
  add(bytes: Uint8Array): Promise<string>;
  /** Peers that announced `hash`. */
  holders(hash: string): PeerId[];
  stats(): BlobExchangeStats;
}

interface Fetch extends FetchPlan {
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

export function createBlobExchange(opts: BlobExchangeOptions): BlobExchange {
  const { cache, sha256, now, timers } = opts;
  const pieceBytes = opts.pieceBytes ?? 256 * 1024;
  const maxInFlight = opts.maxInFlightPerPeer ?? 4;
  const pieceTimeoutMs = opts.pieceTimeoutMs ?? 15_000;
  const maxBlobBytes = opts.maxBlobBytes ?? 512 * 1024 * 1024;
  const holders = createBlobHolders(now, pieceTimeoutMs);
  const { links } = holders;
  const held = new Set<string>();
  const fetches = new Map<string, Fetch>();
  const pending = new Map<string, Promise<Uint8Array>>();
  const s = { downloadedBytes: 0, rejectedBlobs: 0 };
  const upload = createBlobUpload({
    cache,
    now,
    timers,
    pieceBytes,
    maxQueuedWants: opts.maxQueuedWants ?? 256,
    arrived: arrivedPiece,
    ...(opts.uploadBytesPerSec ? { uploadBytesPerSec: opts.uploadBytesPerSec } : {}),
  });

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
    announce(f.hash);
    f.settle(null);
  }

  function announce(hash: string): void {
    held.add(hash);
    for (const l of links) void sendQuietly(l, { type: 'have', hashes: [hash] });
  }

  /** The buffer of a fetch in progress when it holds the piece at `offset` (`length` within it). */
  function arrivedPiece(hash: string, offset: number, length: number): Uint8Array | undefined {
    const f = fetches.get(hash);
    if (!f || offset % pieceBytes !== 0 || length > pieceBytes) return undefined;
    return f.got[offset / pieceBytes] === 1 ? f.buf : undefined;
  }

  function onMessage(link: PeerLink, msg: PeerMessage): void {
    if (msg.type === 'have') {
      holders.noteHave(link, msg.hashes);
      for (const h of msg.hashes) {
        const f = fetches.get(h);
        if (f) pump(f);
      }
    } else if (msg.type === 'pieces') {
      if (held.has(msg.hash)) return;
      holders.notePieces(link, msg);
      const f = fetches.get(msg.hash);
      if (f && !msg.coming) pump(f);
    } else if (msg.type === 'want') {
      upload.want(link, msg);
    } else if (msg.type === 'chunk') {
      onChunk(link, msg);
    } else if (msg.type === 'blob-missing') {
      const f = fetches.get(msg.hash);
      if (f) giveUp(f, link);
    }
  }

  function startFetch(
    hash: string,
    total: number,
    extra: readonly PeerLink[],
    completeOnly = false,
  ): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const count = Math.max(1, Math.ceil(total / pieceBytes));
      const first = opts.random ? Math.floor(opts.random() * count) % count : 0;
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

  async function fetch(hash: string, totalBytes: number, sources: readonly PeerLink[] = []) {
    const cached = await cache.get(hash);
    if (cached) {
      held.add(hash);
      return cached;
    }
    if (!Number.isSafeInteger(totalBytes) || totalBytes < 0 || totalBytes > maxBlobBytes) {
      throw new PeerGridError('too-large', `blob of ${totalBytes} bytes is over ${maxBlobBytes}`);
    }
    let p = pending.get(hash);
    if (!p) {
      p = startFetch(hash, totalBytes, sources).finally(() => pending.delete(hash));
      pending.set(hash, p);
    }
    return p;
  }

  return {
    attach(link) {
      holders.attach(link);
      const offMsg = link.onMessage((msg) => onMessage(link, msg));
      const detach = () => {
        offMsg();
        offClose();
        holders.detach(link);
        for (const f of fetches.values()) giveUp(f, link);
      };
      const offClose = link.onClose(detach);
      if (held.size > 0) void sendQuietly(link, { type: 'have', hashes: [...held].slice(-1024) });
      for (const f of fetches.values()) {
        const pieces = [...f.got.keys()].filter((i) => f.got[i] === 1);
        if (pieces.length > 0)
          void sendQuietly(link, { type: 'pieces', hash: f.hash, total: f.buf.byteLength, pieces });
      }
      return detach;
    },
    fetch,
    async add(bytes) {
      const hash = await sha256(bytes);
      await cache.put(hash, bytes);
      announce(hash);
      return hash;
    },
    holders: (hash) => holders.holders(hash),
    stats: () => ({ ...s, uploadedBytes: upload.uploadedBytes }),
  };
}
