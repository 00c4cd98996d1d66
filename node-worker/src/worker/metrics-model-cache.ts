/**
 * The model cache's size for the metrics: the blob files (named by SHA-256)
 * in the cache directory, read at scrape time so a cache pruned by hand
 * reads right. Other files there (identity.json, temp files) do not count.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isHashName } from '../store/atomic-file.ts';

export async function measureModelCache(dir: string): Promise<{ bytes: number; models: number }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { bytes: 0, models: 0 };
  }
  let bytes = 0;
  let models = 0;
  for (const name of names) {
    if (!isHashName(name)) continue;
    try {
      const s = await stat(join(dir, name));
      if (!s.isFile()) continue;
      bytes += s.size;
      models++;
    } catch {
      // removed meanwhile
    }
  }
  return { bytes, models };
}
