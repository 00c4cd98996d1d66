/**
 * The cartel's shared view: its identities pool everything they see, namely
 * which inputs each holds a lease of right now, which inputs any of them has
 * answered, and which of those answers were lies. Keyed by the input (what a
 * lease carries on the wire), not by task id, which donors never see.
 */

export interface Cartel {
  /** `member` received lease `leaseId` of `input`. */
  hold(leaseId: string, member: string, input: number): void;
  /** The lease ended for its holder: answered, cancelled or dropped. */
  release(leaseId: string): void;
  /** `member` went offline: every lease it held is gone. */
  drop(member: string): void;
  /** Cartel identities holding a lease of `input` now. */
  holders(input: number): number;
  /** Some identity answered `input` before. */
  answered(input: number): boolean;
  /** The cartel lied on `input` before. */
  lied(input: number): boolean;
  /** `member` answered `input`, lying or not. */
  record(member: string, input: number, lie: boolean): void;
  /** Lies `member` has told. */
  liesOf(member: string): number;
}

export function createCartel(): Cartel {
  const leases = new Map<string, { readonly member: string; readonly input: number }>();
  /** Per input: holding identity → leases it holds of it. */
  const byInput = new Map<number, Map<string, number>>();
  const answers = new Map<number, boolean>();
  const lies = new Map<string, number>();

  const release = (leaseId: string) => {
    const l = leases.get(leaseId);
    if (!l) return;
    leases.delete(leaseId);
    const held = byInput.get(l.input);
    const n = (held?.get(l.member) ?? 0) - 1;
    if (n > 0) held?.set(l.member, n);
    else held?.delete(l.member);
    if (held?.size === 0) byInput.delete(l.input);
  };

  return {
    hold(leaseId, member, input) {
      if (leases.has(leaseId)) return;
      leases.set(leaseId, { member, input });
      const held = byInput.get(input) ?? new Map<string, number>();
      byInput.set(input, held);
      held.set(member, (held.get(member) ?? 0) + 1);
    },
    release,
    drop(member) {
      for (const [id, l] of [...leases]) if (l.member === member) release(id);
    },
    holders: (input) => byInput.get(input)?.size ?? 0,
    answered: (input) => answers.has(input),
    lied: (input) => answers.get(input) === true,
    record(member, input, lie) {
      if (lie) {
        answers.set(input, true);
        lies.set(member, (lies.get(member) ?? 0) + 1);
      } else if (!answers.has(input)) answers.set(input, false);
    },
    liesOf: (member) => lies.get(member) ?? 0,
  };
}
