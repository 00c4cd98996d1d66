/**
 * Backends that failed at run time and are not to be used again in this
 * process: a CUDA session that errors mid-run (a lost device, a driver
 * reset, an out-of-memory that poisons the context) is the GPU's failure,
 * not the task's. The run fails with `device-lost` (the donor hands the
 * lease back, re-issued without penalty), the runner process goes (its CUDA
 * context with it), and later runs fall back to the next backend — CPU.
 */
import type { Backend } from '@peergrid/shared';

export interface BackendHealth {
  /** The backend failed for this reason; it is skipped from now on. */
  failed(backend: Backend, reason: string): void;
  /** Why it failed, if it did. */
  reason(backend: Backend): string | undefined;
  /**
   * The backend a run uses: `wanted` (asked for by the run or the worker's
   * `--backend`) unless it failed, else the best working one found.
   */
  choose(found: readonly Backend[], wanted?: Backend): Backend | undefined;
}

export function createBackendHealth(onFail?: (b: Backend, reason: string) => void): BackendHealth {
  const broken = new Map<Backend, string>();
  return {
    failed(b, reason) {
      if (broken.has(b)) return;
      broken.set(b, reason);
      onFail?.(b, reason);
    },
    reason: (b) => broken.get(b),
    choose(found, wanted) {
      if (wanted && !broken.has(wanted)) return wanted;
      return found.find((b) => !broken.has(b) && b !== 'wasm') ?? found.find((b) => !broken.has(b));
    },
  };
}
