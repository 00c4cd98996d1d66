/**
 * Peer identity: an Ed25519 key pair (WebCrypto, passed in as `subtle`, so the
 * same code runs in a page and in Node 20). A peer id is the SHA-256 of the raw
 * 32-byte public key, truncated to 20 bytes (160 bits) and written as 32 chars
 * of lowercase RFC 4648 base32 without padding.
 *
 * Join proof: the server sends a fresh random nonce bound to one connection;
 * the peer signs `challengeBytes({serverId, grid, nonce})`. A signature for one
 * nonce, server or grid does not verify for another.
 *
 * Data channels: each peer signs its session description's DTLS fingerprints
 * with the same key (`verifySignature`; see peer/link-auth.ts).
 */
import type { PeerId } from './contracts.ts';

/** Opaque WebCrypto key handle (CryptoKey). */
export type KeyHandle = object;

/** The slice of WebCrypto's SubtleCrypto this module needs. */
export interface SubtleLike {
  generateKey(
    algorithm: { name: string },
    extractable: boolean,
    usages: string[],
  ): Promise<unknown>;
  importKey(
    format: string,
    keyData: unknown,
    algorithm: { name: string },
    extractable: boolean,
    usages: string[],
  ): Promise<KeyHandle>;
  exportKey(format: string, key: KeyHandle): Promise<unknown>;
  sign(algorithm: { name: string }, key: KeyHandle, data: Uint8Array): Promise<ArrayBuffer>;
  verify(
    algorithm: { name: string },
    key: KeyHandle,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

/** Ed25519 JWK pair, for persisting (IndexedDB, a file). */
export interface IdentityJwk {
  readonly publicKey: JsonWebKeyLike;
  readonly privateKey: JsonWebKeyLike;
}
export interface JsonWebKeyLike {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly d?: string;
}

export interface Identity {
  readonly id: PeerId;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** Raw public key, base64url (what the signaling protocol carries). */
  readonly publicKeyText: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** The key pair as JWKs (the private key is extractable by design: it is persisted). */
  export(): Promise<IdentityJwk>;
}

const ED = { name: 'Ed25519' } as const;

export async function createIdentity(subtle: SubtleLike): Promise<Identity> {
  const pair = (await subtle.generateKey(ED, true, ['sign', 'verify'])) as {
    publicKey: KeyHandle;
    privateKey: KeyHandle;
  };
  return fromKeys(subtle, pair.publicKey, pair.privateKey);
}

export function exportIdentity(identity: Identity): Promise<IdentityJwk> {
  return identity.export();
}

/** Rebuilds an identity from `exportIdentity`'s JWKs; rejects when they are not an Ed25519 pair. */
export async function importIdentity(subtle: SubtleLike, jwk: IdentityJwk): Promise<Identity> {
  const pub = { kty: 'OKP', crv: 'Ed25519', x: jwk.publicKey.x };
  const priv = { kty: 'OKP', crv: 'Ed25519', x: jwk.privateKey.x, d: jwk.privateKey.d };
  const publicKey = await subtle.importKey('jwk', pub, ED, true, ['verify']);
  const privateKey = await subtle.importKey('jwk', priv, ED, true, ['sign']);
  return fromKeys(subtle, publicKey, privateKey);
}

async function fromKeys(
  subtle: SubtleLike,
  publicKey: KeyHandle,
  privateKey: KeyHandle,
): Promise<Identity> {
  const raw = new Uint8Array((await subtle.exportKey('raw', publicKey)) as ArrayBuffer);
  const id = await peerIdFromPublicKey(subtle, raw);
  return {
    id,
    publicKey: raw,
    publicKeyText: base64urlEncode(raw),
    sign: async (data) => new Uint8Array(await subtle.sign(ED, privateKey, data)),
    export: async () => ({
      publicKey: (await subtle.exportKey('jwk', publicKey)) as JsonWebKeyLike,
      privateKey: (await subtle.exportKey('jwk', privateKey)) as JsonWebKeyLike,
    }),
  };
}

/** SHA-256 of the raw key, first 20 bytes, lowercase base32 (32 chars). */
export async function peerIdFromPublicKey(subtle: SubtleLike, raw: Uint8Array): Promise<PeerId> {
  const hash = new Uint8Array(await subtle.digest('SHA-256', raw));
  return base32Encode(hash.subarray(0, 20));
}

/** What a join signature covers. */
export interface ChallengeFields {
  readonly serverId: string;
  readonly grid: string;
  readonly nonce: string;
}

/** The bytes a peer signs: a domain tag plus the challenge fields (all ASCII by the protocol). */
export function challengeBytes(c: ChallengeFields): Uint8Array {
  return asciiBytes(`peergrid-join-v1\n${c.serverId}\n${c.grid}\n${c.nonce}`);
}

/** Signs a challenge; returns the signature as base64url. */
export async function signChallenge(identity: Identity, c: ChallengeFields): Promise<string> {
  return base64urlEncode(await identity.sign(challengeBytes(c)));
}

/**
 * Checks a join proof: `publicKeyText` (raw key, base64url) signed this exact
 * challenge. Never throws: malformed keys or signatures are `false`.
 */
export function verifyChallenge(
  subtle: SubtleLike,
  publicKeyText: string,
  signatureText: string,
  c: ChallengeFields,
): Promise<boolean> {
  return verifySignature(subtle, publicKeyText, signatureText, challengeBytes(c));
}

/**
 * Checks that `publicKeyText` (raw Ed25519 key, base64url) signed `data`
 * (`signatureText`, base64url). Never throws: malformed keys or signatures are `false`.
 */
export async function verifySignature(
  subtle: SubtleLike,
  publicKeyText: string,
  signatureText: string,
  data: Uint8Array,
): Promise<boolean> {
  const raw = base64urlDecode(publicKeyText);
  const sig = base64urlDecode(signatureText);
  if (raw?.length !== 32 || sig?.length !== 64) return false;
  try {
    const key = await subtle.importKey('raw', raw, ED, false, ['verify']);
    return await subtle.verify(ED, key, sig, data);
  } catch {
    return false;
  }
}

/** Text the protocol signs as bytes (ASCII; anything else becomes '?'). */
export const protocolBytes = (text: string): Uint8Array => asciiBytes(text);

function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = c < 128 ? c : 63; // '?': the protocol only carries ASCII here
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]!;
  }
  return out;
}

/** Strict base64url (no padding) decoder; null on any invalid input. */
export function base64urlDecode(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const v = B64.indexOf(text[i]!);
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  // Non-canonical encodings (leftover bits set) are refused.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31]!;
  return out;
}
