/**
 * What both entries of `@peergrid/client` export besides `connectGrid`: the
 * client's types and errors, and the job and tensor helpers a program needs
 * to build a job and read its results.
 */
import type { JobStore } from '@peergrid/shared';

/** What `connectGrid` takes in both runtimes; each entry adds its own (`store`'s meaning too). */
export interface ConnectOptionsBase {
  /** The signaling server, `ws://` or `wss://`. */
  readonly signal: string;
  /** The grid to join. Default `default`. */
  readonly grid?: string;
  /** Join token, when the grid requires one. */
  readonly token?: string;
  /** A store by name (each entry says which kind), or any `JobStore`. */
  readonly store?: string | JobStore;
  /** Give up joining after this long, ms. Default 15 000. */
  readonly joinTimeoutMs?: number;
}

export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  type FeedInput,
  type GridClient,
  GridClientError,
  type JobHandle,
  type JobInput,
  type JobProgress,
  type JobResultSummary,
  type JobSpec,
  type Policy,
  type TaskFailure,
  type TaskInput,
  type TaskResult,
  type TaskSpec,
  type Tensor,
  type TensorMap,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
