/**
 * Binds a data channel to a peer's identity key. Each side signs the DTLS
 * fingerprint(s) of its own session description, bound to both peer ids, the
 * connection attempt and a fresh nonce; the proof rides beside the SDP on the
 * signaling relay. The receiver checks that the key belongs to the claimed
 * peer id (the id is the key's hash), that the signature covers this very
 * exchange, that the nonce is fresh, and that the fingerprints match the SDP.
 * When the channel opens, the fingerprints are read again from the remote
 * description the connection applied: DTLS has proven that the remote end
 * holds the private key of that certificate, so a channel whose fingerprint is
 * the signed one is a channel to the key's holder.
 *
 * Freshness: an answer signs the offer's nonce (a challenge the offerer chose);
 * an offer's nonce is refused when this pool has seen it before (a bounded
 * window). A replayed offer that slips past the window (a restarted peer) still
 * cannot form a channel: the replayer lacks the DTLS key of the old
 * certificate. ICE candidates are not signed: where packets flow does not
 * matter once DTLS is bound to the key.
 */
import type { PeerId } from '../contracts.ts';
import {
  base64urlDecode,
  base64urlEncode,
  type Identity,
  peerIdFromPublicKey,
  protocolBytes,
  type SubtleLike,
  verifySignature,
} from '../identity.ts';
import { cryptoRandom, type Random } from '../platform.ts';
import { BASE64URL_PATTERN } from '../signaling/limits.ts';

/** Stable codes of a refused link (the pool counts them; the mesh view shows them). */
export const LINK_AUTH_ERROR_CODES = [
  'unsigned-description', // an offer or answer without a (well-formed) proof
  'wrong-peer-key', // the proof's key is not the key of the peer id signaling stamped
  'bad-description-signature', // the signature does not cover this exchange (ids, attempt, nonces, fingerprints)
  'replayed-description', // an offer nonce seen before, or an answer to another offer
  'fingerprint-mismatch', // the signed fingerprints are not those of the SDP or of the negotiated channel
] as const;
export type LinkAuthErrorCode = (typeof LINK_AUTH_ERROR_CODES)[number];

/** What a pool needs to sign its descriptions and check its peers'. */
export interface LinkAuth {
  readonly identity: Identity;
  readonly subtle: SubtleLike;
  /** Nonce source. Default `cryptoRandom`. */
  readonly random?: Random;
  /** Offer nonces remembered to refuse replays. Default 4096. */
  readonly replayWindow?: number;
}

/** The proof beside an offer or answer on the wire. */
export interface DescriptionProof {
  /** The signer's raw Ed25519 public key, base64url. */
  readonly k: string;
  /** DTLS fingerprints of the signed description, normalised (`sdpFingerprints`). */
  readonly f: readonly string[];
  /** The signer's fresh nonce, base64url (16 bytes). */
  readonly n: string;
  /** Answers only: the offer's nonce. */
  readonly p?: string;
  /** Ed25519 signature over `descriptionBytes`, base64url. */
  readonly g: string;
}

/** One side of one connection attempt, as the proofs see it. */
export interface AuthAttempt {
  readonly selfId: PeerId;
  readonly remoteId: PeerId;
  /** The attempt's session name (chosen by the initiator). */
  readonly session: string;
  /** The nonce we signed with. */
  localNonce?: string;
  /** Answerer: the offer's nonce, which our answer signs. */
  offerNonce?: string;
  /** The remote's signed fingerprints, once its proof checked out. */
  remoteFingerprints?: readonly string[];
}

export type AuthResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: LinkAuthErrorCode; readonly message: string };

const MAX_FINGERPRINTS = 4;
const FINGERPRINT_LINE =
  /^a=fingerprint:([A-Za-z0-9-]{1,16})[ \t]+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15,63})[ \t]*$/gm;

/** The DTLS fingerprints an SDP declares (session and media level), normalised, sorted, unique. */
export function sdpFingerprints(sdp: string): string[] {
  const out = new Set<string>();
  for (const m of sdp.matchAll(FINGERPRINT_LINE)) {
    out.add(`${m[1]!.toLowerCase()} ${m[2]!.toUpperCase()}`);
  }
  return [...out].sort();
}

/** The bytes a description proof signs: a domain tag and every field it binds. */
export function descriptionBytes(f: {
  readonly type: 'offer' | 'answer';
  readonly from: PeerId;
  readonly to: PeerId;
  readonly session: string;
  readonly nonce: string;
  readonly peerNonce?: string;
  readonly fingerprints: readonly string[];
}): Uint8Array {
  return protocolBytes(
    ['peergrid-sdp-v1', f.type, f.from, f.to, f.session, f.nonce, f.peerNonce ?? '']
      .concat(f.fingerprints)
      .join('\n'),
  );
}

/** Parses a proof from the wire; null when anything is missing or malformed. */
export function parseDescriptionProof(raw: unknown): DescriptionProof | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const b64 = (v: unknown, len: number) =>
    typeof v === 'string' && v.length === len && BASE64URL_PATTERN.test(v);
  if (!b64(r.k, 43) || !b64(r.n, 22) || !b64(r.g, 86)) return null;
  if (r.p !== undefined && !b64(r.p, 22)) return null;
  if (!Array.isArray(r.f) || r.f.length === 0 || r.f.length > MAX_FINGERPRINTS) return null;
  if (!r.f.every((x) => typeof x === 'string' && x.length <= 220)) return null;
  const base = { k: r.k as string, f: [...(r.f as string[])], n: r.n as string, g: r.g as string };
  return r.p === undefined ? base : { ...base, p: r.p as string };
}

/** A session description as simple-peer signals it; null for candidates and the like. */
export function descriptionOf(d: unknown): { type: 'offer' | 'answer'; sdp: string } | null {
  if (typeof d !== 'object' || d === null) return null;
  const { type, sdp } = d as { type?: unknown; sdp?: unknown };
  if ((type !== 'offer' && type !== 'answer') || typeof sdp !== 'string') return null;
  return { type, sdp };
}

export interface LinkAuthenticator {
  /** Signs our description for `attempt`; records the nonce used. */
  sign(
    attempt: AuthAttempt,
    desc: { type: 'offer' | 'answer'; sdp: string },
  ): Promise<DescriptionProof>;
  /** Checks the remote's description and proof; on success records its fingerprints. */
  check(
    attempt: AuthAttempt,
    desc: { type: 'offer' | 'answer'; sdp: string },
    proof: unknown,
  ): Promise<AuthResult>;
  /** Checks the description the connection applied against the signed fingerprints. */
  checkApplied(attempt: AuthAttempt, appliedSdp: string | undefined): AuthResult;
}

const refuse = (code: LinkAuthErrorCode, message: string): AuthResult => ({
  ok: false,
  code,
  message,
});

export function createLinkAuthenticator(auth: LinkAuth): LinkAuthenticator {
  const random = auth.random ?? cryptoRandom;
  const window = Math.max(1, auth.replayWindow ?? 4096);
  /** Offer nonces seen, oldest first (a Set keeps insertion order). */
  const seen = new Set<string>();

  const nonce = () => {
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = Math.floor(random() * 256);
    return base64urlEncode(b);
  };

  return {
    async sign(attempt, desc) {
      const n = nonce();
      attempt.localNonce = n;
      const f = sdpFingerprints(desc.sdp);
      const p = desc.type === 'answer' ? attempt.offerNonce : undefined;
      const bytes = descriptionBytes({
        type: desc.type,
        from: attempt.selfId,
        to: attempt.remoteId,
        session: attempt.session,
        nonce: n,
        fingerprints: f,
        ...(p !== undefined ? { peerNonce: p } : {}),
      });
      const g = base64urlEncode(await auth.identity.sign(bytes));
      const base = { k: auth.identity.publicKeyText, f, n, g };
      return p === undefined ? base : { ...base, p };
    },

    async check(attempt, desc, raw) {
      const proof = parseDescriptionProof(raw);
      if (!proof)
        return refuse('unsigned-description', `${attempt.remoteId} sent an unsigned ${desc.type}`);
      const keyBytes = base64urlDecode(proof.k);
      if (!keyBytes || (await peerIdFromPublicKey(auth.subtle, keyBytes)) !== attempt.remoteId) {
        return refuse(
          'wrong-peer-key',
          `the ${desc.type}'s key is not the key of ${attempt.remoteId}`,
        );
      }
      if (desc.type === 'answer' && proof.p !== attempt.localNonce) {
        return refuse(
          'replayed-description',
          `an answer from ${attempt.remoteId} to another offer`,
        );
      }
      const bytes = descriptionBytes({
        type: desc.type,
        from: attempt.remoteId,
        to: attempt.selfId,
        session: attempt.session,
        nonce: proof.n,
        fingerprints: proof.f,
        ...(proof.p !== undefined ? { peerNonce: proof.p } : {}),
      });
      if (!(await verifySignature(auth.subtle, proof.k, proof.g, bytes))) {
        return refuse(
          'bad-description-signature',
          `${attempt.remoteId}'s ${desc.type} signature does not verify`,
        );
      }
      if (desc.type === 'offer' && seen.has(proof.n)) {
        return refuse('replayed-description', `an offer from ${attempt.remoteId} seen before`);
      }
      if (!sameSet(proof.f, sdpFingerprints(desc.sdp))) {
        return refuse(
          'fingerprint-mismatch',
          `${attempt.remoteId}'s ${desc.type} declares other fingerprints than it signed`,
        );
      }
      if (desc.type === 'offer') {
        seen.add(proof.n);
        if (seen.size > window) seen.delete(seen.values().next().value as string);
        attempt.offerNonce = proof.n;
      }
      attempt.remoteFingerprints = proof.f;
      return { ok: true };
    },

    checkApplied(attempt, appliedSdp) {
      const signed = attempt.remoteFingerprints;
      if (!signed)
        return refuse('unsigned-description', `${attempt.remoteId} never proved its key`);
      if (appliedSdp === undefined) {
        return refuse(
          'fingerprint-mismatch',
          `no remote description to check for ${attempt.remoteId}`,
        );
      }
      if (!sameSet(signed, sdpFingerprints(appliedSdp))) {
        return refuse(
          'fingerprint-mismatch',
          `the channel to ${attempt.remoteId} negotiated another fingerprint than it signed`,
        );
      }
      return { ok: true };
    },
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (b.length === 0) return false;
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}
