/**
 * Blob exchange: models travel by SHA-256 hash. A peer announces the blobs it
 * holds (`have`); a fetch splits a blob into pieces and asks every holder in
 * parallel (`want` → `chunk`), so donors that already hold a model serve it to
 * others (a swarm, not a star). Bytes are checked against the hash before they
 * are cached or used.
 */
import type { PeerId } from '../contracts.ts';
import { PeerGridError } from '../errors.ts';
import type { Now, Sha256Hex, Timers } from '../platform.ts';
import type { BlobCache } from './blob-cache.ts';
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

interface Fetch {
  readonly hash: string;
  readonly buf: Uint8Array;
  readonly todo: number[];
  readonly inflight: Map<number, { link: PeerLink; timer: unknown }>;
  readonly failed: Set<PeerLink>;
  readonly extra: readonly PeerLink[];
  done: number;
  readonly count: number;
  settle(err: Error | null): void;
}

export function createBlobExchange(opts: BlobExchangeOptions): BlobExchange {
  const { cache, sha256, now, timers } = opts;
  const pieceBytes = opts.pieceBytes ?? 256 * 1024;
  const maxInFlight = opts.maxInFlightPerPeer ?? 4;
  const pieceTimeoutMs = opts.pieceTimeoutMs ?? 15_000;
  const maxBlobBytes = opts.maxBlobBytes ?? 512 * 1024 * 1024;
  const maxQueuedWants = opts.maxQueuedWants ?? 256;
  const links = new Set<PeerLink>();
  const haves = new Map<PeerLink, Set<string>>();
  const held = new Set<string>();
  const fetches = new Map<string, Fetch>();
  const pending = new Map<string, Promise<Uint8Array>>();
  const s = { uploadedBytes: 0, downloadedBytes: 0, rejectedBlobs: 0 };
  let uploadTail: Promise<void> = Promise.resolve();
  let queuedWants = 0;
  let nextFreeAt = 0;

  const sendQuietly = (link: PeerLink, msg: PeerMessage) => link.send(msg).catch(() => {});

  function holdersOf(f: Fetch): PeerLink[] {
    const out = new Set<PeerLink>();
    for (const l of f.extra) out.add(l);
    for (const [l, hs] of haves) if (hs.has(f.hash)) out.add(l);
    return [...out].filter((l) => !l.closed && !f.failed.has(l));
  }

  function pump(f: Fetch): void {
    const holders = holdersOf(f);
    for (const link of holders) {
      let inflight = 0;
      for (const p of f.inflight.values()) if (p.link === link) inflight++;
      while (inflight < maxInFlight && f.todo.length > 0) {
        const piece = f.todo.shift()!;
        const offset = piece * pieceBytes;
        const length = Math.min(pieceBytes, f.buf.byteLength - offset);
        const timer = timers.setTimeout(() => giveUp(f, link), pieceTimeoutMs);
        f.inflight.set(piece, { link, timer });
        inflight++;
        link.send({ type: 'want', hash: f.hash, offset, length }).catch(() => giveUp(f, link));
      }
    }
    if (f.todo.length > 0 && f.inflight.size === 0 && holders.length === 0) {
      f.settle(new PeerGridError('blob-unavailable', `no peer could serve blob ${f.hash}`));
    }
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
    s.downloadedBytes += length;
    f.done++;
    if (f.done === f.count) void finish(f);
    else pump(f);
  }

  async function finish(f: Fetch): Promise<void> {
    const actual = await sha256(f.buf);
    if (actual !== f.hash) {
      s.rejectedBlobs++;
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

  async function serve(
    link: PeerLink,
    hash: string,
    offset: number,
    length: number,
  ): Promise<void> {
    // The cache holds verified blobs only: serve any of them, not just this session's.
    const blob = await cache.get(hash);
    if (!blob || offset >= blob.byteLength || length > pieceBytes * 4) {
      return sendQuietly(link, { type: 'blob-missing', hash, offset });
    }
    const data = blob.subarray(offset, Math.min(blob.byteLength, offset + length));
    if (opts.uploadBytesPerSec) {
      const start = Math.max(now(), nextFreeAt);
      nextFreeAt = start + (data.byteLength / opts.uploadBytesPerSec) * 1000;
      const wait = start - now();
      if (wait > 0) await new Promise<void>((r) => timers.setTimeout(r, wait));
    }
    if (link.closed) return;
    await sendQuietly(link, { type: 'chunk', hash, offset, total: blob.byteLength, data });
    s.uploadedBytes += data.byteLength;
  }

  function onMessage(link: PeerLink, msg: PeerMessage): void {
    if (msg.type === 'have') {
      let set = haves.get(link);
      if (!set) {
        set = new Set();
        haves.set(link, set);
      }
      for (const h of msg.hashes) {
        set.add(h);
        const f = fetches.get(h);
        if (f) pump(f);
      }
    } else if (msg.type === 'want') {
      if (queuedWants >= maxQueuedWants) {
        void sendQuietly(link, { type: 'blob-missing', hash: msg.hash, offset: msg.offset });
        return;
      }
      queuedWants++;
      uploadTail = uploadTail
        .then(() => serve(link, msg.hash, msg.offset, msg.length))
        .catch(() => {})
        .finally(() => {
          queuedWants--;
        });
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
  ): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const count = Math.max(1, Math.ceil(total / pieceBytes));
      const f: Fetch = {
        hash,
        buf: new Uint8Array(total),
        todo: Array.from({ length: count }, (_, i) => i),
        inflight: new Map(),
        failed: new Set(),
        extra,
        done: 0,
        count,
        settle(err) {
          if (fetches.get(hash) !== f) return;
          fetches.delete(hash);
          for (const p of f.inflight.values()) timers.clearTimeout(p.timer);
          if (err) reject(err);
          else resolve(f.buf);
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
      links.add(link);
      const offMsg = link.onMessage((msg) => onMessage(link, msg));
      const detach = () => {
        offMsg();
        offClose();
        links.delete(link);
        haves.delete(link);
        for (const f of fetches.values()) giveUp(f, link);
      };
      const offClose = link.onClose(detach);
      if (held.size > 0) void sendQuietly(link, { type: 'have', hashes: [...held].slice(-1024) });
      return detach;
    },
    fetch,
    async add(bytes) {
      const hash = await sha256(bytes);
      await cache.put(hash, bytes);
      announce(hash);
      return hash;
    },
    holders(hash) {
      const out: PeerId[] = [];
      for (const [l, hs] of haves) if (hs.has(hash) && !l.closed) out.push(l.remoteId);
      return out;
    },
    stats: () => ({ ...s }),
  };
}
