import {
  createJobEngine,
  createReputationBook,
  type EngineAction,
  type JobEngine,
  seededRandom,
  type TaskState,
  tensorFrom,
} from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { applyTaskEvent } from '../src/grid/task-states.ts';

const i32 = (v: number) => tensorFrom('int32', [1], new Int32Array([v]));
const caps = {
  runtime: 'node',
  backends: ['wasm'],
  cores: 1,
  memoryMB: 64,
  maxConcurrency: 2,
} as const;

describe('task states in the page: a fold of the engine events', () => {
  it('agrees with the engine at every step, a re-verification after an exclusion included', () => {
    const tasks = Array.from({ length: 6 }, (_, i) => ({
      id: `t${i}`,
      model: 'm',
      feeds: i < 3 ? { x: { tensor: i32(i) } } : { x: { fromTask: `t${i - 3}`, output: 'y' } },
    }));
    const book = createReputationBook();
    const engine: JobEngine = createJobEngine({
      jobId: 'j',
      spec: {
        models: { m: new Uint8Array([1]) },
        tasks,
        policy: { auditRate: 0, soloAuditRate: 0, youngAuditRate: 0, targetError: 1e-3 },
      },
      now: () => 0,
      random: seededRandom(3),
      reputation: book,
    });
    const shown = new Map<string, TaskState>(tasks.map((t) => [t.id, 'blocked']));
    const check = () => {
      for (const e of engine.takeEvents()) applyTaskEvent(shown, e);
      for (const t of engine.snapshot().tasks)
        expect([t.taskId, shown.get(t.taskId)]).toEqual([t.taskId, t.state]);
    };
    const queue: EngineAction[] = [];
    const run = (acts: EngineAction[]) => {
      queue.push(...acts);
      check();
    };
    for (const id of ['a', 'b', 'c']) run(engine.donorAvailable({ id, capabilities: caps }));
    let excluded = false;
    for (let step = 0; step < 200 && queue.length > 0; step++) {
      const a = queue.shift()!;
      if (a.type !== 'assign') continue;
      const v = Number(a.taskId.slice(1));
      run(engine.reported(a.leaseId, { y: i32(v + 1) }, 1));
      if (!excluded && engine.progress().tasks.verified >= 2) {
        excluded = true;
        book.exclude('a', 'test: caught elsewhere'); // what it backed is weighed again
        for (const id of ['d', 'e']) run(engine.donorAvailable({ id, capabilities: caps }));
        expect(engine.progress().reopened).toBeGreaterThan(0);
      }
    }
    expect(excluded).toBe(true);
  });
});
