/**
 * What both entries of `@peergrid/client` export besides `connectGrid`: the
 * client's types and errors, and the job and tensor helpers a program needs
 * to build a job and read its results.
 */
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
