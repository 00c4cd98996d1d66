/**
 * The simulator's account of lies, kept beside the engine (which never learns
 * what is true): every lie told, per task, and every identity that got a
 * lease of that task. At the end each lie is kept (the task's accepted output
 * is that lie) or caught; a lie is *floor* when no one but liars on that task
 * ever got a lease of it: it could not have been caught, since a lie is
 * caught only when someone recomputes that very task.
 */

export interface LieSummary {
  /** Wrong results reported to the engine. */
  readonly told: number;
  /** Lies that are the accepted output of their task at the end. */
  readonly kept: number;
  /** Lies that are not: outvoted, contradicted by a check, or their task failed. */
  readonly caught: number;
  /** Lies on tasks that no one but that task's liars ever got a lease of. */
  readonly floor: number;
}

export interface LieLedger {
  /** The engine issued a lease of `task` to `donor` (checks included). */
  leased(task: string, donor: string): void;
  /** `donor` reported `value`, a wrong result, for `task`. */
  told(task: string, donor: string, value: number): void;
  /** `accepted(task)`: the task's accepted output at the end, if any. */
  summary(accepted: (task: string) => number | undefined): LieSummary;
}

export function createLieLedger(): LieLedger {
  const holders = new Map<string, Set<string>>();
  const lies = new Map<string, { readonly donor: string; readonly value: number }[]>();
  return {
    leased(task, donor) {
      const s = holders.get(task) ?? new Set<string>();
      holders.set(task, s);
      s.add(donor);
    },
    told(task, donor, value) {
      const l = lies.get(task) ?? [];
      lies.set(task, l);
      l.push({ donor, value });
    },
    summary(accepted) {
      let told = 0;
      let kept = 0;
      let floor = 0;
      for (const [task, l] of lies) {
        const out = accepted(task);
        const liars = new Set(l.map((x) => x.donor));
        const unseen = [...(holders.get(task) ?? [])].every((d) => liars.has(d));
        told += l.length;
        for (const x of l) if (x.value === out) kept++;
        if (unseen) floor += l.length;
      }
      return { told, kept, caught: told - kept, floor };
    },
  };
}
