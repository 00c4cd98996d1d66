/**
 * Protocol-level bounds of the signaling messages. Parsers enforce them on both
 * sides; the server's own operational limits (rates, peers per grid, …) are
 * options of the server, see `signaling/src/options.ts`.
 */
export const SIGNALING_LIMITS = {
  /** Grid names: 1–64 of `[A-Za-z0-9._-]`. */
  gridNameMaxChars: 64,
  /** Join tokens, as text. */
  tokenMaxChars: 512,
  /** Serialized `data` of one SDP/ICE signal (JSON text, UTF-16 units). Default 16 KiB. */
  signalPayloadMaxChars: 16 * 1024,
  /** Backends listed in one capabilities object. */
  backendsMax: 8,
  /** Cores a peer may advertise. */
  coresMax: 1024,
  /** Memory a peer may advertise, MiB (16 TiB). */
  memoryMBMax: 16 * 1024 * 1024,
  /** Concurrent tasks a peer may advertise. */
  maxConcurrencyMax: 1024,
  /** Advertised speed of one backend, tasks per second per slot. */
  speedMax: 1_000_000,
  /** Error messages carried in an `error` message. */
  errorMessageMaxChars: 512,
  /** Peers in one presence snapshot a client accepts. */
  snapshotPeersMax: 100_000,
  /** ICE servers a client accepts in `joined`. */
  iceServersMax: 16,
} as const;

/** Grid name syntax, shared by the parsers and the server. */
export const GRID_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Peer id syntax: 32 chars of lowercase RFC 4648 base32 (see identity.ts). */
export const PEER_ID_PATTERN = /^[a-z2-7]{32}$/;
/** base64url without padding. */
export const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;
