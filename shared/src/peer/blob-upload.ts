/**
 * The serving half of the blob exchange: `want`s are answered one at a time
 * with `chunk`s from verified blobs in the cache, or from pieces of a blob
 * still arriving, under an optional upload cap shared by every link. The next
 * `want` served is one for the piece this peer has sent least often (oldest
 * first among those): a seed sends every piece once before it sends any piece
 * twice, and the copies it would send again wait while the swarm still lacks
 * pieces only it can give (super-seeding). Too many queued `want`s, or a range
 * we lack: `blob-missing`.
 */
import type { Now, Timers } from '../platform.ts';
import type { BlobCache } from './blob-cache.ts';
import type { PeerLink } from './link.ts';
import type { PeerMessage, WantMessage } from './messages.ts';

export interface BlobUploadOptions {
  readonly cache: BlobCache;
  readonly now: Now;
  readonly timers: Timers;
  readonly pieceBytes: number;
  /** Cap on bytes/s uploaded (all links together). Default: none. */
  readonly uploadBytesPerSec?: number;
  readonly maxQueuedWants: number;
  /** A blob still arriving, when its piece at `offset` is here (`length` within it). */
  readonly arrived: (hash: string, offset: number, length: number) => Uint8Array | undefined;
}

export interface BlobUpload {
  want(link: PeerLink, msg: WantMessage): void;
  readonly uploadedBytes: number;
}

/** Blobs whose per-piece send counts are kept (the least recently served are forgotten). */
export const MAX_COUNTED_BLOBS = 16;

export const sendQuietly = (link: PeerLink, msg: PeerMessage): Promise<void> =>
  link.send(msg).catch(() => {});

export function createBlobUpload(o: BlobUploadOptions): BlobUpload {
  const queue: { link: PeerLink; msg: WantMessage }[] = [];
  /** Blob → offset → times sent. */
  const sent = new Map<string, Map<number, number>>();
  let serving = false;
  let nextFreeAt = 0;
  let uploaded = 0;

  const timesSent = (w: WantMessage) => sent.get(w.hash)?.get(w.offset) ?? 0;

  function countSent(w: WantMessage): void {
    let counts = sent.get(w.hash);
    if (counts) sent.delete(w.hash);
    else {
      counts = new Map();
      if (sent.size >= MAX_COUNTED_BLOBS) sent.delete(sent.keys().next().value!);
    }
    sent.set(w.hash, counts);
    counts.set(w.offset, (counts.get(w.offset) ?? 0) + 1);
  }

  /** Takes the queued want whose piece went out least often; the oldest among equals. */
  function next(): { link: PeerLink; msg: WantMessage } {
    let best = 0;
    let bestCount = Number.POSITIVE_INFINITY;
    for (let i = 0; i < queue.length && bestCount > 0; i++) {
      const n = timesSent(queue[i]!.msg);
      if (n < bestCount) {
        best = i;
        bestCount = n;
      }
    }
    return queue.splice(best, 1)[0]!;
  }

  async function serve(link: PeerLink, { hash, offset, length }: WantMessage): Promise<void> {
    if (link.closed) return;
    // The cache holds verified blobs only: serve any of them, not just this session's.
    const blob = (await o.cache.get(hash)) ?? o.arrived(hash, offset, length);
    if (!blob || offset >= blob.byteLength || length > o.pieceBytes * 4) {
      return sendQuietly(link, { type: 'blob-missing', hash, offset });
    }
    const data = blob.subarray(offset, Math.min(blob.byteLength, offset + length));
    if (o.uploadBytesPerSec) {
      nextFreeAt = Math.max(o.now(), nextFreeAt) + (data.byteLength / o.uploadBytesPerSec) * 1000;
    }
    countSent({ type: 'want', hash, offset, length });
    await sendQuietly(link, { type: 'chunk', hash, offset, total: blob.byteLength, data });
    uploaded += data.byteLength;
  }

  /** Serves the queue; under a cap, the choice of the next want waits until the uplink is free. */
  async function drain(): Promise<void> {
    serving = true;
    try {
      while (queue.length > 0) {
        const wait = nextFreeAt - o.now();
        if (wait > 0) await new Promise<void>((r) => o.timers.setTimeout(r, wait));
        const w = next();
        await serve(w.link, w.msg).catch(() => {});
      }
    } finally {
      serving = false;
    }
  }

  return {
    want(link, msg) {
      if (queue.length >= o.maxQueuedWants) {
        void sendQuietly(link, { type: 'blob-missing', hash: msg.hash, offset: msg.offset });
        return;
      }
      queue.push({ link, msg });
      if (!serving) void drain();
    },
    get uploadedBytes() {
      return uploaded;
    },
  };
}
