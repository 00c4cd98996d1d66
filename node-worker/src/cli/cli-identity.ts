/** The submitter's identity, kept in its job store (so reputation and ids survive restarts). */
import { createIdentity, type Identity, importIdentity, type JobStore } from '@peergrid/shared';
import { nodeSubtle } from '../worker/node-identity.ts';

export async function importIdentityOrNew(store: JobStore): Promise<Identity> {
  const jwk = await store.getIdentity();
  if (jwk) return importIdentity(nodeSubtle, jwk);
  const identity = await createIdentity(nodeSubtle);
  await store.setIdentity(await identity.export());
  return identity;
}
