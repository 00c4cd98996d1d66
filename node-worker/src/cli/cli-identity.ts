/** The submitter's identity, kept in its job store (so reputation and ids survive restarts). */
import { createIdentity, type Identity, importIdentity, type JobStore } from '@peergrid/shared';
import { connectSubmitterPeer, type NodeGridPeer } from '../worker/node-grid-peer.ts';
import { nodeSubtle } from '../worker/node-identity.ts';
import type { RunOptions } from './run-args.ts';

export async function importIdentityOrNew(store: JobStore): Promise<Identity> {
  const jwk = await store.getIdentity();
  if (jwk) return importIdentity(nodeSubtle, jwk);
  const identity = await createIdentity(nodeSubtle);
  await store.setIdentity(await identity.export());
  return identity;
}

/**
 * Joins the grid as `peergrid run`'s submitter (every form of it: a model,
 * a workload, a manifest, a pipeline), with the identity its store keeps.
 */
export async function connectRunPeer(
  o: Pick<RunOptions, 'signal' | 'grid' | 'token' | 'webrtc' | 'iceRelay'>,
  store: JobStore,
): Promise<NodeGridPeer> {
  return connectSubmitterPeer({
    signal: o.signal,
    grid: o.grid,
    ...(o.token !== undefined ? { token: o.token } : {}),
    identity: await importIdentityOrNew(store),
    ...(o.webrtc ? { webrtc: o.webrtc } : {}),
    ...(o.iceRelay ? { iceTransportPolicy: 'relay' as const } : {}),
  });
}
