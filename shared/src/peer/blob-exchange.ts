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
 *
 * This file wires the parts and handles messages: who holds what is in
 * `blob-pieces.ts`, the fetch side's per-blob state machine in
 * `blob-fetch.ts`, the serving side in `blob-upload.ts`.
 */
import type { PeerId } from '../contracts.ts';
import { PeerGridError } from '../errors.ts';
import type { Now, Random, Sha256Hex, Timers } from '../platform.ts';
import type { BlobCache } from './blob-cache.ts';
import { createBlobFetcher } from './blob-fetch.ts';
import { createBlobHolders } from './blob-pieces.ts';
import { createBlobUpload, sendQuietly } from './blob-upload.ts';
import type { PeerLink } from './link.ts';
import type { PeerMessage } from './messages.ts';

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

export function createBlobExchange(opts: BlobExchangeOptions): BlobExchange {
  const { cache, sha256, now, timers } = opts;
  const pieceBytes = opts.pieceBytes ?? 256 * 1024;
  const maxInFlight = opts.maxInFlightPerPeer ?? 4;
  const pieceTimeoutMs = opts.pieceTimeoutMs ?? 15_000;
  const maxBlobBytes = opts.maxBlobBytes ?? 512 * 1024 * 1024;
  const holders = createBlobHolders(now, pieceTimeoutMs);
  const { links } = holders;
  const held = new Set<string>();
  const pending = new Map<string, Promise<Uint8Array>>();
  const s = { downloadedBytes: 0, rejectedBlobs: 0 };
  const fetcher = createBlobFetcher({
    cache,
    sha256,
    timers,
    random: opts.random,
    holders,
    pieceBytes,
    maxInFlight,
    pieceTimeoutMs,
    stats: s,
    announce,
  });
  const { fetches, pump, giveUp, onChunk, startFetch } = fetcher;
  const upload = createBlobUpload({
    cache,
    now,
    timers,
    pieceBytes,
    maxQueuedWants: opts.maxQueuedWants ?? 256,
    arrived: fetcher.arrivedPiece,
    ...(opts.uploadBytesPerSec ? { uploadBytesPerSec: opts.uploadBytesPerSec } : {}),
  });

  function announce(hash: string): void {
    held.add(hash);
    for (const l of links) void sendQuietly(l, { type: 'have', hashes: [hash] });
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
