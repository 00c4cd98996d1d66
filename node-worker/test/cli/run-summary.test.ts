/** The run's closing figures: the event tally and the summary text. */
import type { JobEvent, JobEventType } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { createRunTally, type RunSummary, summaryText } from '../../src/cli/run-summary.ts';

let seq = 0;
const ev = (type: JobEventType, more: Partial<JobEvent> = {}): JobEvent => ({
  jobId: 'j',
  seq: ++seq,
  at: 0,
  type,
  ...more,
});

describe('createRunTally', () => {
  it('counts each task with a disagreement once, and every rejected result', () => {
    const t = createRunTally();
    // An anchor contradicting a result rejects it at once, without a dispute event.
    t.onEvent(ev('lease-verdict', { taskId: 'a', verdict: 'rejected' }));
    t.onEvent(ev('task-disputed', { taskId: 'b' }));
    t.onEvent(ev('audit-failed', { taskId: 'b' }));
    t.onEvent(ev('lease-verdict', { taskId: 'b', verdict: 'rejected' }));
    t.onEvent(ev('lease-verdict', { taskId: 'c', verdict: 'accepted' }));
    t.onEvent(ev('audit-passed', { taskId: 'c' }));
    expect(t.disagreements()).toBe(2);
    expect(t.rejected()).toBe(2);
  });
});

describe('summaryText', () => {
  it('shows the bound against the target, audits, anchors and exclusions with reasons', () => {
    const s: RunSummary = {
      jobId: 'j',
      state: 'completed',
      tasks: 10,
      verified: 10,
      failed: 0,
      resumedVerified: 0,
      resultsReceived: 25,
      donors: 4,
      agreements: 22,
      disagreements: 1,
      rejected: 1,
      targetError: 1e-4,
      achievedError: 4.7e-5,
      final: 10,
      audits: { issued: 2, passed: 1, failed: 1 },
      anchors: [{ id: 'me', local: true, results: 3 }],
      excluded: [{ donor: 'liar', reason: 'contradicted an anchor, last on task t3' }],
      seconds: 1.5,
    };
    const text = summaryText(s, []);
    expect(text).toContain('error bound 4.7e-5 (target 1.0e-4) · 10/10 results final');
    expect(text).toContain('audits 2 issued, 1 passed, 1 failed · anchors: me (local) 3 results');
    expect(text).toContain('disagreements 1 · rejected results 1');
    expect(text).toMatch(/excluded 1\n {2}liar: contradicted an anchor, last on task t3/);
  });
});
