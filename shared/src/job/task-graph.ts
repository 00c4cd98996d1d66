/**
 * The job's DAG at run time: task nodes with their inputs and dependents,
 * and feed resolution. Only resident tasks have a node: every explicit task
 * and the group tasks they depend on from the start, then group tasks as
 * placement reaches them (`nextFresh`), as a store restores them, or as
 * re-verification loads them back (`adopt`). A verified task may be retired
 * (`retire`): its node is dropped, its result stays in the store.
 */
import type { Tensor, TensorMap } from '../tensor.ts';
import type { TaskRt } from './runtime.ts';
import type { JobSpec, TaskSpec } from './spec.ts';
import { createTaskSource, type TaskSource } from './task-source.ts';

export interface TaskGraph {
  readonly source: TaskSource;
  /** Tasks in all (resident or not). */
  readonly count: number;
  /** Resident tasks, in the order they became resident. */
  resident(): IterableIterator<TaskRt>;
  /** The resident node of a task id, if any. */
  get(id: string): TaskRt | undefined;
  /** Group tasks never touched yet: ready from the start, not resident. */
  untouched(): number;
  /** The next untouched group task, now resident (state `ready`), or undefined. */
  nextFresh(): TaskRt | undefined;
  /** Makes a group task resident (a restored record, a task loaded back); undefined for an unknown id. */
  adopt(id: string): TaskRt | undefined;
  /** Drops a group task's node (it stays counted in its state); explicit tasks and tasks with dependents stay. */
  retire(t: TaskRt): void;
  /** Marks a group task retired without a node (restored verified from a store); false when it cannot be. */
  retireId(id: string): boolean;
  /** Retired since the start (not resident, result in the store). */
  isRetired(id: string): boolean;
  resolveFeeds(t: TaskRt): TensorMap | string;
}

const node = (spec: TaskSpec, index: number): TaskRt => ({
  spec,
  index,
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
});

export function createTaskGraph(spec: JobSpec): TaskGraph {
  const source = createTaskSource(spec);
  const byId = new Map<string, TaskRt>();
  /** Group positions touched (resident now or before); a bit per task. */
  const touched = new Uint8Array(Math.ceil((source.count - source.explicit) / 8));
  const retired = new Uint8Array(touched.length);
  let touchedCount = 0;
  let cursor = source.explicit;
  const bit = (a: Uint8Array, i: number) => (a[i >> 3]! >> (i & 7)) & 1;
  const set = (a: Uint8Array, i: number, on: boolean) => {
    if (on) a[i >> 3]! |= 1 << (i & 7);
    else a[i >> 3]! &= ~(1 << (i & 7));
  };

  const materialize = (index: number, state: TaskRt['state']): TaskRt => {
    const t = node(source.at(index), index);
    t.state = state;
    byId.set(t.spec.id, t);
    const g = index - source.explicit;
    if (g >= 0) {
      if (!bit(touched, g)) touchedCount++;
      set(touched, g, true);
      set(retired, g, false);
    }
    return t;
  };

  for (let i = 0; i < source.explicit; i++) materialize(i, 'blocked');
  for (const t of [...byId.values()]) {
    for (const f of Object.values(t.spec.feeds)) {
      if (!('fromTask' in f)) continue;
      let dep = byId.get(f.fromTask);
      if (!dep) {
        const i = source.indexOf(f.fromTask);
        if (i >= 0) dep = materialize(i, 'ready');
      }
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

  return {
    source,
    count: source.count,
    resident: () => byId.values(),
    get: (id) => byId.get(id),
    untouched: () => source.count - source.explicit - touchedCount,
    nextFresh() {
      for (; cursor < source.count; cursor++) {
        if (!bit(touched, cursor - source.explicit)) return materialize(cursor++, 'ready');
      }
      return undefined;
    },
    adopt(id) {
      const have = byId.get(id);
      if (have) return have;
      const i = source.indexOf(id);
      return i >= source.explicit ? materialize(i, 'ready') : undefined;
    },
    retire(t) {
      const g = t.index - source.explicit;
      if (g < 0 || t.dependents.length > 0 || byId.get(t.spec.id) !== t) return;
      byId.delete(t.spec.id);
      set(retired, g, true);
    },
    retireId(id) {
      const i = source.indexOf(id);
      const g = i - source.explicit;
      if (g < 0 || byId.has(id)) return false;
      if (!bit(touched, g)) touchedCount++;
      set(touched, g, true);
      set(retired, g, true);
      return true;
    },
    isRetired(id) {
      const i = source.indexOf(id);
      return i >= source.explicit && !byId.has(id) && bit(retired, i - source.explicit) === 1;
    },
    resolveFeeds,
  };
}
