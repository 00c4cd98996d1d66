export { type BackendReport, detectBackends } from './detect-backends.ts';
export {
  createNodeExecutor,
  NODE_EXECUTOR_DEFAULTS,
  type NodeExecutorOptions,
} from './node-executor.ts';
