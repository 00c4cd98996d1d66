/**
 * The peer protocol: every message two peers exchange over a data channel,
 * declared once. Tensors and blob bytes travel in the frame payload (see
 * frame-codec.ts); in the header they are indexes into the frame's tensor table.
 */
import type { Backend } from '../contracts.ts';
import type { WireError } from '../errors.ts';
import type { TensorMap } from '../tensor.ts';
import type { FeedRef } from './feed-refs.ts';

/** Load a peer reports in heartbeats: tasks running, queued, and its capacity. */
export interface PeerLoad {
  readonly running: number;
  readonly queued: number;
  readonly capacity: number;
  /**
   * Most leases it holds at once, running and queued (beyond them it answers
   * `busy`); submitters size their windows under it. Absent from version 1 peers.
   */
  readonly limit?: number;
}

/**
 * Submitter → donor: run one task under a lease. Names no task: a solo task,
 * a replica and an audit must look the same to the donor (colluding donors
 * would otherwise recognise checks), so the submitter maps leases to tasks
 * itself and `leaseId` is opaque.
 */
export interface AssignMessage {
  readonly type: 'assign';
  /** Opaque, unique per submitter (random, not a counter); every reply names it. */
  readonly leaseId: string;
  readonly jobId: string;
  /** SHA-256 hex of the model bytes; the donor fetches them by hash. */
  readonly modelHash: string;
  readonly modelBytes: number;
  readonly feeds: TensorMap;
  /**
   * Feeds the job shares between tasks, by the hash of their canonical bytes
   * (protocol 3, `feed-refs.ts`): the donor fetches each once, as it fetches
   * models, and keeps it for later leases. Names apart from `feeds`'.
   */
  readonly feedRefs?: Readonly<Record<string, FeedRef>>;
  /** Time budget from receipt, ms (relative: peers' clocks differ). */
  readonly deadlineMs: number;
  readonly backend?: Backend;
  /** Output names to return; all when absent. */
  readonly outputs?: readonly string[];
}

/** Donor → submitter: the lease is accepted (queued or running). */
export interface AckMessage {
  readonly type: 'ack';
  readonly leaseId: string;
}

export interface ProgressMessage {
  readonly type: 'progress';
  readonly leaseId: string;
  readonly state: 'fetching-model' | 'queued' | 'running';
}

export interface ResultMessage {
  readonly type: 'result';
  readonly leaseId: string;
  readonly outputs: TensorMap;
  /**
   * SHA-256 hex of the outputs (see `digestTensorMap`). Required by version 1
   * peers, who never checked it either; version 2 donors leave it out for
   * version 2 submitters: replicas are compared by their outputs, and a
   * donor's word on its own digest proves nothing.
   */
  readonly digest?: string;
  readonly computeMs: number;
  readonly backend: Backend;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly leaseId: string;
  readonly error: WireError;
}

/** Submitter → donor: drop the lease; no reply. */
export interface CancelMessage {
  readonly type: 'cancel';
  readonly leaseId: string;
}

/**
 * Submitter → donor: how a result the donor reported fared in verification;
 * no reply. Sent once per lease, when the task's result is accepted (or an
 * audit of it is settled). Informational: the donor's counters only. Names
 * the lease only, like `assign`.
 */
export interface VerdictMessage {
  readonly type: 'verdict';
  readonly leaseId: string;
  readonly jobId: string;
  /**
   * `accepted`: the result agreed with the accepted one and was credited;
   * `rejected`: it disagreed with the accepted one (or the donor is excluded).
   */
  readonly verdict: 'accepted' | 'rejected';
  /** Compute credited for this result, ms: its reported `computeMs` when accepted, 0 when rejected. */
  readonly creditMs: number;
}

/**
 * Submitter → donor (version 4): the running totals of how this donor's
 * results in one job fared, in place of a `verdict` per lease. Totals, not
 * increments: a repeated or reordered one counts once (the donor keeps the
 * largest it heard per submitter, job and `session`). A submitter sends them
 * at most every 250 ms, at each tick and when the job ends; `session` is new for each run
 * of the job (a resumed job counts from zero under a new one).
 */
export interface CreditMessage {
  readonly type: 'credit';
  readonly jobId: string;
  readonly session: string;
  /** Results accepted so far in this session. */
  readonly accepted: number;
  /** Compute credited by them, ms. */
  readonly verifiedMs: number;
  /** Results rejected so far in this session. */
  readonly rejected: number;
}

/** "I hold these blobs (complete, verified)." */
export interface HaveMessage {
  readonly type: 'have';
  readonly hashes: readonly string[];
}

/**
 * "I hold these pieces of a blob I am still fetching" (or, with `coming`,
 * "am getting them from a source"): others may ask for held pieces before
 * the blob is whole, and leave coming ones to the peer getting them. Unverified (the blob's hash is checked when
 * it is whole), so a fetch that fails its hash check is redone from complete
 * holders only. Pieces are `pieceBytes`-sized ranges, numbered from 0.
 */
export interface PiecesMessage {
  readonly type: 'pieces';
  readonly hash: string;
  /** Size of the whole blob. */
  readonly total: number;
  readonly pieces: readonly number[];
  /** The pieces are on their way (asked of a source), not held yet. */
  readonly coming?: boolean;
}

/** Asks for a byte range of a blob. */
export interface WantMessage {
  readonly type: 'want';
  readonly hash: string;
  readonly offset: number;
  readonly length: number;
}

/** A byte range of a blob, in reply to `want`. */
export interface ChunkMessage {
  readonly type: 'chunk';
  readonly hash: string;
  readonly offset: number;
  /** Size of the whole blob. */
  readonly total: number;
  readonly data: Uint8Array;
}

/** Reply to `want` when the range cannot be served. */
export interface BlobMissingMessage {
  readonly type: 'blob-missing';
  readonly hash: string;
  readonly offset: number;
}

export interface PingMessage {
  readonly type: 'ping';
  readonly seq: number;
  readonly load?: PeerLoad;
}

export interface PongMessage {
  readonly type: 'pong';
  readonly seq: number;
  readonly load?: PeerLoad;
}

/**
 * Sent once on every new link, before anything else: the protocol version
 * this peer speaks. A peer that never sent one speaks version 1. Version 2
 * adds `batch` frames and results without `digest`; version 3 `feedRefs`
 * in assigns; version 4 `credit` totals instead of a `verdict` per lease. Older peers ignore it
 * (an unknown type), and are sent nothing they would not understand.
 */
export interface HelloMessage {
  readonly type: 'hello';
  readonly protocol: number;
}

/** The protocol version this code speaks (see `HelloMessage`). */
export const PEER_PROTOCOL = 4;

export type TaskMessage =
  | AssignMessage
  | AckMessage
  | ProgressMessage
  | ResultMessage
  | ErrorMessage
  | CancelMessage
  | VerdictMessage
  | CreditMessage;
export type BlobMessage =
  | HaveMessage
  | PiecesMessage
  | WantMessage
  | ChunkMessage
  | BlobMissingMessage;
export type PeerMessage = TaskMessage | BlobMessage | PingMessage | PongMessage | HelloMessage;
export type PeerMessageType = PeerMessage['type'];

/** Every type a frame header may name: the messages, and `batch` (a frame of several). */
export const PEER_MESSAGE_TYPES: readonly (PeerMessageType | 'batch')[] = [
  'assign',
  'ack',
  'progress',
  'result',
  'error',
  'cancel',
  'verdict',
  'credit',
  'have',
  'pieces',
  'want',
  'chunk',
  'blob-missing',
  'ping',
  'pong',
  'hello',
  'batch',
];

/** Named limits on message fields. */
export const PEER_MESSAGE_LIMITS = {
  /** Longest id string (lease, job, error code). */
  maxIdLength: 128,
  /** Most tensors in one feeds/outputs map. */
  maxTensors: 256,
  maxNameLength: 256,
  /** Most hashes in one `have`. */
  maxHaves: 1024,
  /** Most piece numbers in one `pieces`. */
  maxPieces: 8192,
  maxErrorMessageLength: 4096,
  /** Most compute one `verdict` may credit, ms: one day. */
  maxVerdictCreditMs: 86_400_000,
  /** Most compute one `credit` total may name, ms: a thousand days. */
  maxCreditTotalMs: 86_400_000_000,
  /** Most results one `credit` total may count. */
  maxCreditCount: 2 ** 40,
  /** Largest blob size a message may name: 2 GiB. */
  maxBlobBytes: 2 ** 31,
  /** Most messages in one `batch` frame. */
  maxBatch: 1024,
} as const;
