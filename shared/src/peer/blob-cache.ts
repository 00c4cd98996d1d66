/**
 * Content-addressed blob storage (models, by SHA-256 hex). The page backs it
 * with IndexedDB, the Node worker with a directory; tests with memory.
 * Only bytes already verified against their hash are put.
 */
export interface BlobCache {
  get(hash: string): Promise<Uint8Array | undefined>;
  put(hash: string, bytes: Uint8Array): Promise<void>;
  has(hash: string): Promise<boolean>;
}

/** A BlobCache in memory, evicting least recently used blobs past `maxBytes` (default 1 GiB). */
export function createMemoryBlobCache(maxBytes = 1 << 30): BlobCache {
  const blobs = new Map<string, Uint8Array>();
  let total = 0;
  return {
    async get(hash) {
      const b = blobs.get(hash);
      if (b) {
        blobs.delete(hash);
        blobs.set(hash, b);
      }
      return b;
    },
    async put(hash, bytes) {
      if (blobs.has(hash)) return;
      blobs.set(hash, bytes);
      total += bytes.byteLength;
      for (const [h, b] of blobs) {
        if (total <= maxBytes || h === hash) break;
        blobs.delete(h);
        total -= b.byteLength;
      }
    },
    async has(hash) {
      return blobs.has(hash);
    },
  };
}
