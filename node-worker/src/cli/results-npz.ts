/**
 * `--out results.npz`, written as tasks verify: each task's outputs are
 * entries `TASK/OUTPUT.npy` of a zip (stored, as `np.savez` writes) that
 * fflate's streaming `Zip` emits chunk by chunk; each chunk is on disk before
 * the next entry is taken, so memory holds one task's outputs at a time. The
 * archive is readable (it has its central directory) once `close` returns.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { encodeNpy, resultEntryName, type TensorMap } from '@peergrid/shared';
import { Zip, ZipPassThrough } from 'fflate';

/**
 * Zip offsets are 32-bit without ZIP64, which fflate does not write: an
 * archive stops short of 4 GiB (use `--out DIR/` past it).
 */
export const NPZ_MAX_BYTES = 2 ** 32 - 1;
/** Entries a zip without ZIP64 counts (16 bits): tasks × outputs stop there (use `--out DIR/` past it). */
export const NPZ_MAX_ENTRIES = 65_535;

/** A fixed entry time, as shared's `encodeNpz` writes: the same results give the same bytes. */
const MTIME = new Date(1980, 0, 1, 12);

export interface NpzStream {
  /** Appends one task's outputs; resolves when they are on disk. */
  add(taskId: string, outputs: TensorMap): Promise<void>;
  /** Writes the central directory and closes the file. */
  close(): Promise<void>;
  /** Bytes written so far. */
  readonly bytes: number;
}

export async function openNpzStream(path: string): Promise<NpzStream> {
  const fh: FileHandle = await open(path, 'w');
  let chunks: Uint8Array[] = [];
  let failure: Error | null = null;
  let bytes = 0;
  let entries = 0;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else chunks.push(chunk);
  });
  const flush = async () => {
    if (failure) throw failure;
    const out = chunks;
    chunks = [];
    const size = out.reduce((n, c) => n + c.byteLength, 0);
    if (bytes + size > NPZ_MAX_BYTES) {
      throw new Error(
        `${path}: an .npz stops short of 4 GiB (zip without ZIP64); write the results to a folder instead (--out DIR/)`,
      );
    }
    await writeAll(fh, out);
    bytes += size;
  };
  return {
    get bytes() {
      return bytes;
    },
    async add(taskId, outputs) {
      for (const [name, t] of Object.entries(outputs)) {
        if (++entries > NPZ_MAX_ENTRIES) {
          throw new Error(
            `${path}: an .npz holds at most ${NPZ_MAX_ENTRIES} task outputs (zip without ZIP64); write the results to a folder instead (--out DIR/)`,
          );
        }
        const entry = new ZipPassThrough(resultEntryName(taskId, name));
        entry.mtime = MTIME;
        zip.add(entry);
        entry.push(encodeNpy(t), true);
        await flush();
      }
    },
    async close() {
      try {
        zip.end();
        await flush();
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
  };
}

/** Writes every chunk, in one `writev` when the system takes it whole (an entry's header, data, descriptor). */
async function writeAll(fh: FileHandle, chunks: Uint8Array[]): Promise<void> {
  if (chunks.length === 0) return;
  let done = (await fh.writev(chunks)).bytesWritten;
  for (const c of chunks) {
    if (done >= c.byteLength) {
      done -= c.byteLength;
      continue;
    }
    // A short write: the rest of this chunk, then the chunks after it, one by one.
    let off = done;
    done = 0;
    while (off < c.byteLength) off += (await fh.write(c, off, c.byteLength - off)).bytesWritten;
  }
}
