/**
 * `--check` for any job spec (a manifest's): every task run locally in
 * dependency order through the CLI's executor, blob feeds resolved to their
 * tensors and groups expanded, with the workloads' `runReference`.
 */
import { allTasks, type Executor, type JobSpec } from '@peergrid/shared';
import {
  type ReferenceOptions,
  type ReferenceOutputs,
  runReference,
  type WorkloadFeed,
  type WorkloadTask,
} from '../workloads/workload.ts';

export function specReference(
  spec: JobSpec,
  executor: Executor,
  options: ReferenceOptions = {},
): Promise<ReferenceOutputs> {
  const tasks: WorkloadTask[] = allTasks(spec).map((t) => ({
    ...t,
    feeds: Object.fromEntries(
      Object.entries(t.feeds).map(([name, f]): [string, WorkloadFeed] => {
        if (!('blob' in f)) return [name, f];
        const tensor = spec.blobs?.[f.blob];
        if (!tensor) throw new Error(`task ${t.id} feed ${name}: no blob ${f.blob}`);
        return [name, { tensor }];
      }),
    ),
  }));
  return runReference({ name: spec.name ?? 'job', models: spec.models, tasks }, executor, options);
}
