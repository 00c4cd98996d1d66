import type { BlobCache, DonorCredit, IdentityJwk } from '@peergrid/shared';
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { JobKind } from '../state/types.ts';
import { appendCreditPoint, type CreditPoint } from './credit-history.ts';

/** What the page keeps beside the job store: how to show a job, and donated models. */
export interface JobMeta {
  readonly jobId: string;
  readonly kind: JobKind;
  readonly createdAt: number;
  /** Known answers per task id (MNIST labels). */
  readonly labels?: Readonly<Record<string, readonly number[]>>;
}

interface ModelEntry {
  readonly hash: string;
  readonly bytes: Uint8Array;
  readonly size: number;
  usedAt: number;
}

interface PageSchema extends DBSchema {
  jobMeta: { key: string; value: JobMeta };
  identities: { key: number; value: { slot: number; jwk: IdentityJwk } };
  models: { key: string; value: ModelEntry; indexes: { usedAt: number } };
  credit: {
    key: string;
    value: { peerId: string; credit: DonorCredit; history?: readonly CreditPoint[] };
  };
}

/** Models a donor tab keeps in IndexedDB; least recently used go first past it. Default 512 MiB. */
export const MODEL_CACHE_BYTES = 512 * 1024 * 1024;

export interface PageDb {
  getMeta(jobId: string): Promise<JobMeta | undefined>;
  /** Keys of extra tabs (identity slots ≥ 1; slot 0 lives in the job store). */
  getIdentity(slot: number): Promise<IdentityJwk | undefined>;
  setIdentity(slot: number, jwk: IdentityJwk): Promise<void>;
  putMeta(meta: JobMeta): Promise<void>;
  /** Verified work submitters credited to this peer id, across sessions. */
  getCredit(peerId: string): Promise<DonorCredit | undefined>;
  /** Saves the totals, and a point of their history (served while on `grid`). */
  putCredit(peerId: string, credit: DonorCredit, grid?: string): Promise<void>;
  /** The totals over time, oldest first (credit-history.ts). */
  getCreditHistory(peerId: string): Promise<readonly CreditPoint[]>;
  /** Donated models by hash (bytes verified by the blob exchange before they are put). */
  readonly models: BlobCache;
  close(): void;
}

export async function openPageDb(
  name = 'peergrid-page',
  maxModelBytes = MODEL_CACHE_BYTES,
): Promise<PageDb> {
  const db: IDBPDatabase<PageSchema> = await openDB<PageSchema>(name, 3, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        d.createObjectStore('jobMeta', { keyPath: 'jobId' });
        d.createObjectStore('models', { keyPath: 'hash' }).createIndex('usedAt', 'usedAt');
      }
      if (oldVersion < 2) d.createObjectStore('identities', { keyPath: 'slot' });
      if (oldVersion < 3) d.createObjectStore('credit', { keyPath: 'peerId' });
    },
  });
  // A few recently used models stay in memory: the ORT workers ask for them once per task.
  const memo = new Map<string, Uint8Array>();
  const remember = (hash: string, bytes: Uint8Array) => {
    memo.delete(hash);
    memo.set(hash, bytes);
    while (memo.size > 4) memo.delete(memo.keys().next().value as string);
  };
  async function evict(): Promise<void> {
    const tx = db.transaction('models', 'readwrite');
    let total = 0;
    const all = await tx.store.index('usedAt').getAll();
    for (const m of all) total += m.size;
    for (const m of all) {
      if (total <= maxModelBytes) break;
      await tx.store.delete(m.hash);
      memo.delete(m.hash);
      total -= m.size;
    }
    await tx.done;
  }
  const models: BlobCache = {
    async get(hash) {
      const hit = memo.get(hash);
      if (hit) return hit;
      const e = await db.get('models', hash);
      if (!e) return undefined;
      remember(hash, e.bytes);
      void db.put('models', { ...e, usedAt: Date.now() });
      return e.bytes;
    },
    async put(hash, bytes) {
      remember(hash, bytes);
      await db.put('models', { hash, bytes, size: bytes.byteLength, usedAt: Date.now() });
      await evict();
    },
    async has(hash) {
      return memo.has(hash) || (await db.getKey('models', hash)) !== undefined;
    },
  };
  return {
    getMeta: (jobId) => db.get('jobMeta', jobId),
    getIdentity: async (slot) => (await db.get('identities', slot))?.jwk,
    setIdentity: async (slot, jwk) => {
      await db.put('identities', { slot, jwk });
    },
    putMeta: async (meta) => {
      await db.put('jobMeta', meta);
    },
    getCredit: async (peerId) => (await db.get('credit', peerId))?.credit,
    putCredit: async (peerId, credit, grid = '') => {
      const tx = db.transaction('credit', 'readwrite');
      const old = await tx.store.get(peerId);
      const history = appendCreditPoint(old?.history ?? [], { t: Date.now(), grid, ...credit });
      await tx.store.put({ peerId, credit, history });
      await tx.done;
    },
    getCreditHistory: async (peerId) => (await db.get('credit', peerId))?.history ?? [],
    models,
    close: () => db.close(),
  };
}
