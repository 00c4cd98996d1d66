/**
 * Web Locks held for the life of the tab. Tabs of one browser profile share
 * IndexedDB: without these, two tabs would join with the same key (the
 * server replaces the first) and both would drive the same stored job.
 */

/** Identity slots tried per browser profile (one per open tab). Default 16. */
export const MAX_IDENTITY_SLOTS = 16;

interface LockManagerLike {
  request(
    name: string,
    opts: { ifAvailable: boolean },
    cb: (lock: unknown) => Promise<void>,
  ): Promise<void>;
}

// No Web Locks (or no navigator at all, as in Node 20): every claim succeeds.
const locks = (): LockManagerLike | null =>
  (globalThis.navigator as (Navigator & { locks?: LockManagerLike }) | undefined)?.locks ?? null;

const held = new Set<string>();

/** Takes `name` if no other tab holds it; then holds it until the tab closes. True when this tab holds it. */
export function holdIfFree(name: string): Promise<boolean> {
  const lm = locks();
  if (!lm || held.has(name)) return Promise.resolve(true); // no Web Locks: assume one tab
  return new Promise((resolve) => {
    void lm.request(name, { ifAvailable: true }, (lock) => {
      if (!lock) {
        resolve(false);
        return Promise.resolve();
      }
      held.add(name);
      resolve(true);
      return new Promise<void>(() => {}); // held for the tab's lifetime
    });
  });
}

/** The first identity slot no other tab of this profile uses (0 = the job store's own key). */
export async function claimIdentitySlot(): Promise<number> {
  for (let slot = 0; slot < MAX_IDENTITY_SLOTS; slot++) {
    if (await holdIfFree(`peergrid-identity-${slot}`)) return slot;
  }
  return -1; // every slot taken: a throwaway identity
}

/** Whether this tab may drive `jobId` (no other tab of the profile does). */
export const claimJob = (jobId: string) => holdIfFree(`peergrid-job-${jobId}`);
