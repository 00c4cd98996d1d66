/**
 * A BlobCache in a directory, one file per blob named by its SHA-256 hex.
 * Bytes read from disk are checked against their name once per process (a
 * corrupt file is deleted and reported missing); recently used blobs stay in
 * memory so a model is not re-read for every task.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlobCache, createMemoryBlobCache, type Sha256Hex } from '@peergrid/shared';
import { nodeSha256 } from '../transport/node-peer-pool.ts';
import { isHashName, writeFileAtomic } from './atomic-file.ts';

export interface DiskBlobCacheOptions {
  /** Bytes of blobs kept in memory (LRU). Default 512 MiB. */
  readonly memoryBytes?: number;
  readonly sha256?: Sha256Hex;
}

export async function createDiskBlobCache(
  dir: string,
  options: DiskBlobCacheOptions = {},
): Promise<BlobCache> {
  await mkdir(dir, { recursive: true });
  const sha256 = options.sha256 ?? nodeSha256;
  const memory = createMemoryBlobCache(options.memoryBytes ?? 512 * 1024 * 1024);
  const path = (hash: string) => join(dir, hash);
  const onDisk = async (hash: string) => {
    try {
      return (await stat(path(hash))).isFile();
    } catch {
      return false;
    }
  };
  const has = async (hash: string) =>
    (await memory.has(hash)) || (isHashName(hash) && (await onDisk(hash)));
  return {
    async get(hash) {
      const hot = await memory.get(hash);
      if (hot || !isHashName(hash)) return hot;
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(path(hash)));
      } catch {
        return undefined;
      }
      if ((await sha256(bytes)) !== hash) {
        await rm(path(hash), { force: true });
        return undefined;
      }
      await memory.put(hash, bytes);
      return bytes;
    },
    async put(hash, bytes) {
      if (!isHashName(hash)) throw new Error(`not a blob name: ${hash}`);
      if (!(await onDisk(hash))) await writeFileAtomic(path(hash), bytes);
      await memory.put(hash, bytes);
    },
    has,
  };
}
