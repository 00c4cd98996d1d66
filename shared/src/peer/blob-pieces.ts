/**
 * What peers said about blobs they are still fetching (`pieces` messages):
 * pieces they hold (and serve), and pieces on their way to them from a
 * source. A fetch asks its source (the submitter's uplink) only for pieces
 * nobody holds or is already getting, so that uplink sends each piece about
 * once; "on the way" marks expire, so a peer that never gets its piece does
 * not hold the others back.
 */
import type { Now } from '../platform.ts';
import type { PeerLink } from './link.ts';
import type { PiecesMessage } from './messages.ts';

/** Blobs per link whose announced pieces are tracked (older ones are forgotten). */
export const MAX_PARTIAL_BLOBS_PER_LINK = 64;

interface Announced {
  readonly held: Set<number>;
  /** Piece → when the "on the way" mark expires. */
  readonly coming: Map<number, number>;
}

export interface PieceBook {
  /** Records a `pieces` message from `link`. */
  note(link: PeerLink, msg: PiecesMessage): void;
  /** `link` now holds the whole blob (a `have`), or is gone (`hash` undefined). */
  forget(link: PeerLink, hash?: string): void;
  /** Links that announced pieces of `hash`. */
  links(hash: string): PeerLink[];
  /** Whether `link` announced holding `piece` of `hash`. */
  holds(link: PeerLink, hash: string, piece: number): boolean;
  /** Whether some link among `links` holds `piece`, or is getting it (unexpired). */
  claimed(links: readonly PeerLink[], hash: string, piece: number): boolean;
}

export function createPieceBook(now: Now, comingTtlMs: number): PieceBook {
  const book = new Map<PeerLink, Map<string, Announced>>();
  const entry = (link: PeerLink, hash: string) => book.get(link)?.get(hash);
  return {
    note(link, msg) {
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
        if (msg.coming) {
          if (!a.held.has(piece)) a.coming.set(piece, until);
        } else {
          a.held.add(piece);
          a.coming.delete(piece);
        }
      }
    },
    forget(link, hash) {
      if (hash === undefined) book.delete(link);
      else book.get(link)?.delete(hash);
    },
    links(hash) {
      const out: PeerLink[] = [];
      for (const [l, blobs] of book) if (blobs.get(hash)?.held.size) out.push(l);
      return out;
    },
    holds: (link, hash, piece) => entry(link, hash)?.held.has(piece) === true,
    claimed(links, hash, piece) {
      const t = now();
      for (const l of links) {
        const a = entry(l, hash);
        if (!a) continue;
        if (a.held.has(piece) || (a.coming.get(piece) ?? 0) > t) return true;
      }
      return false;
    },
  };
}
