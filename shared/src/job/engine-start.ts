/**
 * Starting a job engine, or resuming one from a store's snapshot: verified
 * and failed tasks are taken back as they were; in-flight leases are not
 * restored (they are re-issued). A job that had already ended stays ended.
 */
import type { TensorMap } from '../tensor.ts';
import type { EngineState, TaskRt } from './engine-types.ts';
import type { JobState } from './state.ts';
import type { EngineSnapshot } from './types.ts';

export interface StartContext {
  /** `restore`: the snapshot to resume from, if any. */
  readonly o: { readonly restore?: EngineSnapshot };
  readonly st: EngineState;
  readonly tasks: readonly TaskRt[];
  readonly graph: { readonly resolveFeeds: (t: TaskRt) => TensorMap | string };
  readonly setJobState: (to: JobState) => void;
  readonly makeReady: (t: TaskRt) => void;
  readonly firmPool: TaskRt[];
  readonly weakPool: TaskRt[];
}

export function startEngine(c: StartContext): void {
  const { st, tasks, graph, setJobState, makeReady, firmPool, weakPool } = c;
  const restore = c.o.restore;
  if (restore) {
    const accepted = new Map(restore.results.map((r) => [r.taskId, r]));
    for (const r of restore.tasks) {
      const t = st.byId.get(r.taskId);
      if (!t) continue;
      t.attempts = r.attempts;
      const res = accepted.get(r.taskId);
      if (r.state === 'verified' && res) {
        t.state = 'verified';
        t.accepted = res;
      } else if (r.state === 'failed') {
        t.state = 'failed';
        t.failReason = r.failReason ?? 'failed';
        st.failed.push({ taskId: t.spec.id, reason: t.failReason });
      }
    }
  }
  for (const t of tasks) {
    st.counts[t.state]++;
    const feeds = t.state === 'verified' ? graph.resolveFeeds(t) : undefined;
    if (typeof feeds === 'object') t.feeds = feeds; // needed to re-run it as a known-answer check
  }
  st.seq = Math.max(st.seq, restore?.job.seq ?? 0);
  const restoredState = restore?.job.state;
  if (restoredState && restoredState !== 'pending' && restoredState !== 'running') {
    st.state = restoredState;
  } else {
    setJobState('running');
    for (const t of tasks) {
      if (t.state === 'verified' && t.accepted) (t.accepted.firm ? firmPool : weakPool).push(t);
      if (t.state === 'blocked' && t.deps.every((d) => d.state === 'verified')) makeReady(t);
    }
  }
}
