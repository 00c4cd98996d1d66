import { describe, expect, it } from 'vitest';
import {
  type AuthAttempt,
  createIdentity,
  createLinkAuthenticator,
  descriptionBytes,
  type SubtleLike,
  sdpFingerprints,
} from '../../src/index.ts';

const subtle = (globalThis as unknown as { crypto: { subtle: SubtleLike } }).crypto.subtle;

const FP_A = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
const FP_B = Array.from({ length: 32 }, (_, i) => (i + 160).toString(16).toUpperCase()).join(':');
const sdp = (fp: string) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${fp}\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 ${fp}\r\n`;

async function pair() {
  const a = await createIdentity(subtle);
  const b = await createIdentity(subtle);
  const authA = createLinkAuthenticator({ identity: a, subtle });
  const authB = createLinkAuthenticator({ identity: b, subtle });
  const session = `${a.id}#1`;
  const atA: AuthAttempt = { selfId: a.id, remoteId: b.id, session };
  const atB: AuthAttempt = { selfId: b.id, remoteId: a.id, session };
  return { a, b, authA, authB, atA, atB, session };
}

describe('sdpFingerprints', () => {
  it('reads session and media fingerprints, normalised and unique', () => {
    const text = `a=fingerprint:SHA-256 ${FP_A.toLowerCase()}\r\na=fingerprint:sha-256 ${FP_A}\na=fingerprint:sha-1 ${FP_B.slice(0, 59)}\r\n`;
    expect(sdpFingerprints(text)).toEqual([`sha-1 ${FP_B.slice(0, 59)}`, `sha-256 ${FP_A}`]);
  });
  it('finds none in an SDP without them, or with a malformed one', () => {
    expect(sdpFingerprints('v=0\r\na=setup:actpass\r\n')).toEqual([]);
    expect(sdpFingerprints('a=fingerprint:sha-256 ZZ:01\r\n')).toEqual([]);
  });
});

describe('link authenticator', () => {
  it('accepts an honest offer and answer, and the channel they negotiated', async () => {
    const { authA, authB, atA, atB } = await pair();
    const offer = { type: 'offer' as const, sdp: sdp(FP_A) };
    const proofA = await authA.sign(atA, offer);
    expect(await authB.check(atB, offer, proofA)).toEqual({ ok: true });
    const answer = { type: 'answer' as const, sdp: sdp(FP_B) };
    const proofB = await authB.sign(atB, answer);
    expect(proofB.p).toBe(proofA.n); // the answer signs the offer's nonce
    expect(await authA.check(atA, answer, proofB)).toEqual({ ok: true });
    expect(authA.checkApplied(atA, sdp(FP_B))).toEqual({ ok: true });
    expect(authB.checkApplied(atB, sdp(FP_A))).toEqual({ ok: true });
  });

  it('refuses an unsigned description and a malformed proof', async () => {
    const { authB, atB } = await pair();
    const offer = { type: 'offer' as const, sdp: sdp(FP_A) };
    expect(await authB.check(atB, offer, undefined)).toMatchObject({
      ok: false,
      code: 'unsigned-description',
    });
    expect(await authB.check(atB, offer, { k: 'x', f: [], n: 'y', g: 'z' })).toMatchObject({
      code: 'unsigned-description',
    });
  });

  it('refuses a description signed by a key that is not the claimed peer id', async () => {
    const { authB, atB } = await pair();
    const mallory = await createIdentity(subtle);
    const authM = createLinkAuthenticator({ identity: mallory, subtle });
    const offer = { type: 'offer' as const, sdp: sdp(FP_B) };
    // Mallory signs honestly with her key but signaling stamps it as from A.
    const proof = await authM.sign(
      { selfId: mallory.id, remoteId: atB.selfId, session: atB.session },
      offer,
    );
    expect(await authB.check(atB, offer, proof)).toMatchObject({ code: 'wrong-peer-key' });
  });

  it('refuses a swapped SDP under the honest proof, and a proof for another peer or attempt', async () => {
    const { a, authA, authB, atA, atB } = await pair();
    const offer = { type: 'offer' as const, sdp: sdp(FP_A) };
    const proof = await authA.sign(atA, offer);
    // The same proof beside another SDP (the relay's own certificate).
    expect(await authB.check(atB, { type: 'offer', sdp: sdp(FP_B) }, proof)).toMatchObject({
      code: 'fingerprint-mismatch',
    });
    // The proof's fingerprints rewritten to match: the signature no longer covers them.
    expect(
      await authB.check(
        atB,
        { type: 'offer', sdp: sdp(FP_B) },
        { ...proof, f: [`sha-256 ${FP_B}`] },
      ),
    ).toMatchObject({ code: 'bad-description-signature' });
    // Signed for C, delivered to B.
    const c = await createIdentity(subtle);
    const toC = await authA.sign({ selfId: a.id, remoteId: c.id, session: atA.session }, offer);
    expect(await authB.check(atB, offer, toC)).toMatchObject({ code: 'bad-description-signature' });
    // Signed for another attempt.
    expect(await authB.check({ ...atB, session: `${a.id}#2` }, offer, proof)).toMatchObject({
      code: 'bad-description-signature',
    });
  });

  it('refuses a replayed offer, and an answer to an earlier offer', async () => {
    const { authA, authB, atA, atB, session } = await pair();
    const offer = { type: 'offer' as const, sdp: sdp(FP_A) };
    const proof1 = await authA.sign(atA, offer);
    expect((await authB.check(atB, offer, proof1)).ok).toBe(true);
    expect(await authB.check({ ...atB }, offer, proof1)).toMatchObject({
      code: 'replayed-description',
    });
    const answer = { type: 'answer' as const, sdp: sdp(FP_B) };
    const oldAnswer = await authB.sign(atB, answer);
    // A makes a new offer (new nonce) in a new attempt; the old answer is replayed to it.
    const atA2: AuthAttempt = { ...atA, session };
    await authA.sign(atA2, offer);
    expect(await authA.check(atA2, answer, oldAnswer)).toMatchObject({
      code: 'replayed-description',
    });
  });

  it('forgets the oldest offer nonces past replayWindow', async () => {
    const { a, b, authA, atA, atB } = await pair();
    const authB = createLinkAuthenticator({ identity: b, subtle, replayWindow: 2 });
    const offer = { type: 'offer' as const, sdp: sdp(FP_A) };
    const proofs = [];
    for (let i = 0; i < 3; i++) proofs.push(await authA.sign(atA, offer));
    for (const p of proofs) expect((await authB.check({ ...atB }, offer, p)).ok).toBe(true);
    expect((await authB.check({ ...atB }, offer, proofs[0])).ok).toBe(true); // forgotten
    expect((await authB.check({ ...atB }, offer, proofs[2])).ok).toBe(false);
    expect(a.id).not.toBe(b.id);
  });

  it('refuses a channel whose applied remote description is not the signed one', async () => {
    const { authA, authB, atA, atB } = await pair();
    const offer = { type: 'offer' as const, sdp: sdp(FP_A) };
    await authB.check(atB, offer, await authA.sign(atA, offer));
    expect(authB.checkApplied(atB, sdp(FP_B))).toMatchObject({ code: 'fingerprint-mismatch' });
    expect(authB.checkApplied(atB, undefined)).toMatchObject({ code: 'fingerprint-mismatch' });
    expect(authB.checkApplied({ ...atB, remoteFingerprints: undefined }, sdp(FP_A))).toMatchObject({
      code: 'unsigned-description',
    });
  });

  it('signs every bound field', () => {
    const base = {
      type: 'offer' as const,
      from: 'a',
      to: 'b',
      session: 's',
      nonce: 'n',
      fingerprints: ['f'],
    };
    const text = (b: Uint8Array) => String.fromCharCode(...b);
    const ref = text(descriptionBytes(base));
    for (const change of [
      { type: 'answer' as const },
      { from: 'x' },
      { to: 'x' },
      { session: 'x' },
      { nonce: 'x' },
      { peerNonce: 'x' },
      { fingerprints: ['g'] },
    ]) {
      expect(text(descriptionBytes({ ...base, ...change }))).not.toBe(ref);
    }
  });
});
