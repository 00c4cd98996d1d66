/**
 * The serving half of the blob exchange: `want`s are answered one after
 * another (oldest first) with `chunk`s from verified blobs in the cache, or
 * from pieces of a blob still arriving, under an optional upload cap shared
 * by every link. Too many queued `want`s, or a range we lack: `blob-missing`.
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

export const sendQuietly = (link: PeerLink, msg: PeerMessage): Promise<void> =>
  link.send(msg).catch(() => {});

export function createBlobUpload(o: BlobUploadOptions): BlobUpload {
  let tail: Promise<void> = Promise.resolve();
  let queued = 0;
  let nextFreeAt = 0;
  let uploaded = 0;

  async function serve(link: PeerLink, { hash, offset, length }: WantMessage): Promise<void> {
    // The cache holds verified blobs only: serve any of them, not just this session's.
    const blob = (await o.cache.get(hash)) ?? o.arrived(hash, offset, length);
    if (!blob || offset >= blob.byteLength || length > o.pieceBytes * 4) {
      return sendQuietly(link, { type: 'blob-missing', hash, offset });
    }
    const data = blob.subarray(offset, Math.min(blob.byteLength, offset + length));
    if (o.uploadBytesPerSec) {
      const start = Math.max(o.now(), nextFreeAt);
      nextFreeAt = start + (data.byteLength / o.uploadBytesPerSec) * 1000;
      const wait = start - o.now();
      if (wait > 0) await new Promise<void>((r) => o.timers.setTimeout(r, wait));
    }
    if (link.closed) return;
    await sendQuietly(link, { type: 'chunk', hash, offset, total: blob.byteLength, data });
    uploaded += data.byteLength;
  }

  return {
    want(link, msg) {
      if (queued >= o.maxQueuedWants) {
        void sendQuietly(link, { type: 'blob-missing', hash: msg.hash, offset: msg.offset });
        return;
      }
      queued++;
      tail = tail
        .then(() => serve(link, msg))
        .catch(() => {})
        .finally(() => {
          queued--;
        });
    },
    get uploadedBytes() {
      return uploaded;
    },
  };
}
