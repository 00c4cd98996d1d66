import { describe, expect, it } from 'vitest';
import {
  base64urlDecode,
  base64urlEncode,
  createIdentity,
  exportIdentity,
  importIdentity,
  peerIdFromPublicKey,
  type SubtleLike,
  signChallenge,
  verifyChallenge,
} from '../src/identity.ts';
import { PEER_ID_PATTERN } from '../src/signaling/limits.ts';

const subtle = (globalThis as unknown as { crypto: { subtle: SubtleLike } }).crypto.subtle;
const challenge = { serverId: 'srv1', grid: 'lab', nonce: 'n0nce-abc' };

describe('identity', () => {
  it('derives a 32-char base32 id from the public key, stable across export/import', async () => {
    const a = await createIdentity(subtle);
    expect(a.id).toMatch(PEER_ID_PATTERN);
    expect(a.publicKey.length).toBe(32);
    expect(await peerIdFromPublicKey(subtle, a.publicKey)).toBe(a.id);
    const jwk = JSON.parse(JSON.stringify(await exportIdentity(a)));
    const b = await importIdentity(subtle, jwk);
    expect(b.id).toBe(a.id);
    expect(b.publicKeyText).toBe(a.publicKeyText);
    const sig = await signChallenge(b, challenge);
    expect(await verifyChallenge(subtle, a.publicKeyText, sig, challenge)).toBe(true);
  });

  it('a signature verifies only for its own key, nonce, server and grid', async () => {
    const a = await createIdentity(subtle);
    const other = await createIdentity(subtle);
    expect(other.id).not.toBe(a.id);
    const sig = await signChallenge(a, challenge);
    expect(await verifyChallenge(subtle, a.publicKeyText, sig, challenge)).toBe(true);
    expect(await verifyChallenge(subtle, other.publicKeyText, sig, challenge)).toBe(false);
    for (const c of [
      { ...challenge, nonce: 'other' },
      { ...challenge, grid: 'lab2' },
      { ...challenge, serverId: 'srv2' },
    ]) {
      expect(await verifyChallenge(subtle, a.publicKeyText, sig, c)).toBe(false);
    }
  });

  it('malformed keys and signatures are false, not exceptions', async () => {
    const a = await createIdentity(subtle);
    const sig = await signChallenge(a, challenge);
    expect(await verifyChallenge(subtle, 'x', sig, challenge)).toBe(false);
    expect(await verifyChallenge(subtle, a.publicKeyText, 'AAAA', challenge)).toBe(false);
    expect(await verifyChallenge(subtle, 'A'.repeat(43), sig, challenge)).toBe(false);
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    expect(await verifyChallenge(subtle, a.publicKeyText, flipped, challenge)).toBe(false);
  });

  it('base64url round-trips every length and refuses junk', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      const text = base64urlEncode(bytes);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(text.length).toBe(Math.ceil((n * 4) / 3));
      expect(base64urlDecode(text)).toEqual(bytes);
    }
    expect(base64urlEncode(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('-_-_');
    expect(base64urlEncode(Uint8Array.of(102, 111, 111, 98))).toBe('Zm9vYg');
    expect(base64urlDecode('ab+c')).toBeNull();
    expect(base64urlDecode('a')).toBeNull();
    expect(base64urlDecode('AB')).toBeNull(); // non-canonical: leftover bits set
  });
});
