import type { JobEvent } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { createTaskWindow } from '../src/grid/task-states.ts';

const ev = (taskId: string, state: JobEvent['state']): JobEvent =>
  ({ jobId: 'j', seq: 0, at: 0, type: 'task-running', taskId, state }) as JobEvent;

describe('task window', () => {
  it('keeps the newest tasks, and a correction changes a held state in place', () => {
    const w = createTaskWindow(3);
    for (const [id, s] of [
      ['a', 'running'],
      ['b', 'running'],
      ['c', 'verified'],
      ['d', 'running'],
    ] as const)
      w.apply(ev(id, s));
    expect([...w.entries()]).toEqual([
      ['b', 'running'],
      ['c', 'verified'],
      ['d', 'running'],
    ]);
    w.correct('b', 'ready'); // e.g. after a resume the engine has it ready
    w.correct('a', 'ready'); // not held: nothing to correct
    expect([...w.entries()]).toEqual([
      ['b', 'ready'],
      ['c', 'verified'],
      ['d', 'running'],
    ]);
    expect(w.get('a')).toBeUndefined();
  });
});
