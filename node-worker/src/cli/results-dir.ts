/**
 * `--out DIR/`, written as tasks verify: one .npy per task and output,
 * `DIR/TASK/OUTPUT.npy` (the names of shared's `resultEntryName`). A file
 * is written beside its place and renamed into it, so a reader never sees
 * half a file and a task verified again replaces its files whole.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeNpy, resultEntryName, type TensorMap } from '@peergrid/shared';

export interface DirWriter {
  /** Writes (or replaces) one task's outputs; resolves when they are in place. */
  put(taskId: string, outputs: TensorMap): Promise<void>;
  /** Bytes written so far. */
  readonly bytes: number;
}

export async function openResultsDir(dir: string): Promise<DirWriter> {
  await mkdir(dir, { recursive: true });
  let bytes = 0;
  return {
    get bytes() {
      return bytes;
    },
    async put(taskId, outputs) {
      for (const [name, t] of Object.entries(outputs)) {
        const path = join(dir, resultEntryName(taskId, name));
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
        const data = encodeNpy(t);
        try {
          await writeFile(tmp, data);
          await rename(tmp, path);
        } catch (e) {
          await rm(tmp, { force: true });
          throw e;
        }
        bytes += data.byteLength;
      }
    },
  };
}
