import type { CompareRule, Policy } from '@peergrid/shared';

/** The policy fields of the Submit form, as the inputs hold them. */
export interface PolicyForm {
  readonly replicas: string;
  readonly quorum: string;
  readonly compare: CompareRule['kind'];
  readonly tolerance: string;
  readonly axis: string;
  readonly deadlineS: string;
}

export type PolicyResult = { ok: true; policy: Partial<Policy> } | { ok: false; error: string };

/** Most replicas the form offers (the engine may add more on disagreement). Default 5. */
export const MAX_FORM_REPLICAS = 5;

/** Checks the form and builds a policy, or says what is wrong in words. */
export function policyFromForm(f: PolicyForm): PolicyResult {
  const replicas = Number(f.replicas);
  const quorum = Number(f.quorum);
  const deadline = Number(f.deadlineS);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_FORM_REPLICAS) {
    return { ok: false, error: `Replicas must be a whole number from 1 to ${MAX_FORM_REPLICAS}.` };
  }
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > replicas) {
    return { ok: false, error: 'Quorum must be at least 1 and at most the number of replicas.' };
  }
  if (!Number.isFinite(deadline) || deadline <= 0 || deadline > 3600) {
    return { ok: false, error: 'The deadline must be between 1 and 3600 seconds.' };
  }
  let compare: CompareRule;
  if (f.compare === 'tolerance') {
    const tol = Number(f.tolerance);
    if (!Number.isFinite(tol) || tol < 0)
      return { ok: false, error: 'The tolerance must be a number ≥ 0.' };
    compare = { kind: 'tolerance', abs: tol, rel: tol };
  } else if (f.compare === 'argmax') {
    const axis = Number(f.axis);
    if (!Number.isInteger(axis))
      return { ok: false, error: 'The argmax axis must be a whole number.' };
    compare = { kind: 'argmax', axis };
  } else compare = { kind: 'exact' };
  return {
    ok: true,
    policy: {
      replicas,
      quorum,
      maxReplicas: Math.max(replicas + 2, 5),
      compare,
      taskDeadlineMs: deadline * 1000,
    },
  };
}
