/** The job's DAG at run time: task nodes with their inputs and dependents, and feed resolution. */
import type { Tensor, TensorMap } from '../tensor.ts';
import type { TaskRt } from './runtime.ts';
import type { JobSpec } from './spec.ts';

export function createTaskGraph(spec: JobSpec) {
  const byId = new Map<string, TaskRt>();
  const tasks: TaskRt[] = spec.tasks.map((s) => {
    const t: TaskRt = {
      spec: s,
      deps: [],
      dependents: [],
      state: 'blocked',
      attempts: 0,
      departures: 0,
      results: [],
      used: new Set(),
      leases: new Set(),
      inFlight: 0,
      target: 0,
      solo: false,
      credible: false,
      anchorOnly: false,
      auditsToIssue: 0,
      auditToDraw: false,
      anchorPlanned: false,
      final: false,
      queued: false,
    };
    byId.set(s.id, t);
    return t;
  });
  for (const t of tasks) {
    for (const f of Object.values(t.spec.feeds)) {
      if (!('fromTask' in f)) continue;
      const dep = byId.get(f.fromTask);
      if (dep && !t.deps.includes(dep)) {
        t.deps.push(dep);
        dep.dependents.push(t);
      }
    }
  }

  /** The task's input tensors, or the reason they cannot be had. */
  const resolveFeeds = (t: TaskRt): TensorMap | string => {
    const out: Record<string, Tensor> = {};
    for (const [name, f] of Object.entries(t.spec.feeds)) {
      if ('tensor' in f) out[name] = f.tensor;
      else if ('blob' in f) {
        const b = spec.blobs?.[f.blob];
        if (!b) return `feed ${name}: no blob ${f.blob}`;
        out[name] = b;
      } else {
        const v = byId.get(f.fromTask)?.accepted?.outputs[f.output];
        if (!v) return `feed ${name}: task ${f.fromTask} has no output ${f.output}`;
        out[name] = v;
      }
    }
    return out;
  };

  return { tasks, byId, resolveFeeds };
}
