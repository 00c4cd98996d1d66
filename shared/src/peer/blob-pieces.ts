/**
 * Who holds what, for the blob exchange: the links attached, the whole blobs
 * each announced (`have`), and what each said about blobs it is still
 * fetching (`pieces`): pieces it holds (and serves), and pieces on their way
 * to it from a source. From that, which piece to ask which link for: peers
 * first; a fetch's own sources (the submitter's uplink) only for pieces
 * nobody holds or is already getting, so that uplink sends each piece about
 * once. "On the way" marks expire and are not renewed, so a peer that never
 * gets its piece (or says so falsely) holds the others back once, for
 * `comingTtlMs`, at most.
 */
import type { PeerId } from '../contracts.ts';
import type { Now } from '../platform.ts';
import type { PeerLink } from './link.ts';
import type { PiecesMessage } from './messages.ts';

/** Blobs per link whose announced pieces are tracked (older ones are forgotten). */
export const MAX_PARTIAL_BLOBS_PER_LINK = 64;

/** What choosing a piece needs to know of a fetch. */
export interface FetchPlan {
  readonly hash: string;
  /** Pieces not asked for yet; `pick` takes from it. */
  readonly todo: number[];
  /** The fetch's own sources (the submitter): they hold the whole blob. */
  readonly extra: readonly PeerLink[];
  /** Links that failed this fetch: not asked again. */
  readonly failed: ReadonlySet<PeerLink>;
  /** Take pieces from complete holders only (after a failed hash check). */
  readonly completeOnly: boolean;
}

interface Announced {
  readonly held: Set<number>;
  /** Piece → when the "on the way" mark expires. */
  readonly coming: Map<number, number>;
}

export interface BlobHolders {
  /** Links attached (every one hears our announcements). */
  readonly links: ReadonlySet<PeerLink>;
  attach(link: PeerLink): void;
  /** Forgets everything about `link`. */
  detach(link: PeerLink): void;
  /** `link` holds these blobs whole (a `have`). */
  noteHave(link: PeerLink, hashes: readonly string[]): void;
  /** A `pieces` message from `link`. */
  notePieces(link: PeerLink, msg: PiecesMessage): void;
  /** Whether `link` announced `hash` whole. */
  hasWhole(link: PeerLink, hash: string): boolean;
  /** Peers that announced `hash` whole (open links only). */
  holders(hash: string): PeerId[];
  /** Usable links holding the whole blob: peers first, then the fetch's sources. */
  complete(f: FetchPlan): PeerLink[];
  /** Usable links holding some pieces of it (none after a failed hash check). */
  partial(f: FetchPlan): PeerLink[];
  /** Whether `link` announced holding `piece` of `hash`. */
  holds(link: PeerLink, hash: string, piece: number): boolean;
  /** Whether some peer said it holds or is getting pieces of `hash` (others fetch it too). */
  shared(hash: string): boolean;
  /** Takes the next piece of `f.todo` to ask `link` for, or undefined. */
  pick(f: FetchPlan, link: PeerLink): number | undefined;
}

export function createBlobHolders(now: Now, comingTtlMs: number): BlobHolders {
  const links = new Set<PeerLink>();
  const haves = new Map<PeerLink, Set<string>>();
  const book = new Map<PeerLink, Map<string, Announced>>();
  const entry = (link: PeerLink, hash: string) => book.get(link)?.get(hash);
  const usable = (f: FetchPlan, l: PeerLink) => !l.closed && !f.failed.has(l);
  const hasWhole = (link: PeerLink, hash: string) => haves.get(link)?.has(hash) === true;

  /** Whether a link other than `except` holds `piece`, or is getting it (unexpired). */
  function claimed(except: PeerLink, hash: string, piece: number): boolean {
    const t = now();
    for (const [l, blobs] of book) {
      const a = l === except ? undefined : blobs.get(hash);
      if (a && (a.held.has(piece) || (a.coming.get(piece) ?? 0) > t)) return true;
    }
    return false;
  }

  return {
    links,
    attach: (link) => void links.add(link),
    detach(link) {
      links.delete(link);
      haves.delete(link);
      book.delete(link);
    },
    noteHave(link, hashes) {
      let set = haves.get(link);
      if (!set) {
        set = new Set();
        haves.set(link, set);
      }
      for (const h of hashes) {
        set.add(h);
        book.get(link)?.delete(h);
      }
    },
    notePieces(link, msg) {
      if (hasWhole(link, msg.hash)) return;
      let blobs = book.get(link);
      if (!blobs) {
        blobs = new Map();
        book.set(link, blobs);
      }
      let a = blobs.get(msg.hash);
      if (!a) {
        if (blobs.size >= MAX_PARTIAL_BLOBS_PER_LINK) blobs.delete(blobs.keys().next().value!);
        a = { held: new Set(), coming: new Map() };
        blobs.set(msg.hash, a);
      }
      const until = now() + comingTtlMs;
      for (const piece of msg.pieces) {
        if (!msg.coming) {
          a.held.add(piece);
          a.coming.delete(piece);
        } else if (!a.held.has(piece) && !a.coming.has(piece)) a.coming.set(piece, until);
      }
    },
    hasWhole,
    holders(hash) {
      const out: PeerId[] = [];
      for (const [l, hs] of haves) if (hs.has(hash) && !l.closed) out.push(l.remoteId);
      return out;
    },
    complete(f) {
      const out = new Set<PeerLink>();
      for (const [l, hs] of haves) if (hs.has(f.hash) && !f.extra.includes(l)) out.add(l);
      for (const l of f.extra) out.add(l);
      return [...out].filter((l) => usable(f, l));
    },
    partial(f) {
      if (f.completeOnly) return [];
      const out: PeerLink[] = [];
      for (const [l, blobs] of book) if (blobs.get(f.hash)?.held.size && usable(f, l)) out.push(l);
      return out;
    },
    holds: (link, hash, piece) => entry(link, hash)?.held.has(piece) === true,
    shared(hash) {
      for (const blobs of book.values()) if (blobs.has(hash)) return true;
      return false;
    },
    pick(f, link) {
      const source = f.extra.includes(link);
      const whole = source || hasWhole(link, f.hash);
      const mine = entry(link, f.hash)?.held;
      for (let i = 0; i < f.todo.length; i++) {
        const piece = f.todo[i]!;
        if (!whole && !mine?.has(piece)) continue;
        // After a failed hash check, peers' claims count for nothing.
        if (source && !f.completeOnly && claimed(link, f.hash, piece)) continue;
        f.todo.splice(i, 1);
        return piece;
      }
      return undefined;
    },
  };
}
