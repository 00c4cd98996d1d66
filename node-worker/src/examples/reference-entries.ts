/** Where the examples live, and how results by task become the entries of a results archive. */
import { fileURLToPath } from 'node:url';
import { resultEntryName, type Tensor, type TensorMap } from '@peergrid/shared';

/** The repo's examples/ folder. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples', import.meta.url));

/** Outputs by task id → the entries of a results archive (`TASK/OUTPUT.npy` keys without .npy). */
export function referenceEntries(byTask: ReadonlyMap<string, TensorMap>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [task, outputs] of byTask) {
    for (const [name, t] of Object.entries(outputs)) {
      out[resultEntryName(task, name).slice(0, -'.npy'.length)] = t;
    }
  }
  return out;
}
