/** This peer's Ed25519 identity in Node: WebCrypto keys kept as JWKs in a file (mode 0600). */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  createIdentity,
  type Identity,
  type IdentityJwk,
  importIdentity,
  type SubtleLike,
} from '@peergrid/shared';
import { writeFileAtomic } from '../store/atomic-file.ts';

export const nodeSubtle = globalThis.crypto.subtle as unknown as SubtleLike;

/** The identity stored in `path`, or a new one written there. */
export async function loadOrCreateIdentity(path: string): Promise<Identity> {
  try {
    const jwk = JSON.parse(await readFile(path, 'utf8')) as IdentityJwk;
    return await importIdentity(nodeSubtle, jwk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${path}: not a PeerGrid identity (${String(err)})`);
    }
  }
  const identity = await createIdentity(nodeSubtle);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(await identity.export()));
  return identity;
}
