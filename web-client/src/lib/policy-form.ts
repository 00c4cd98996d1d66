import { type CompareRule, DEFAULT_POLICY, isPeerId, type Policy } from '@peergrid/shared';
import { formatBound } from './format.ts';

/** The policy fields of the Submit form, as the inputs hold them. */
export interface PolicyForm {
  readonly replicas: string;
  readonly quorum: string;
  readonly compare: CompareRule['kind'];
  readonly tolerance: string;
  readonly axis: string;
  readonly deadlineS: string;
  /** Results a task may grow to while its bound is over the target. */
  readonly maxReplicas: string;
  /** Bound on the chance that a result is wrong, e.g. `1e-4`. */
  readonly targetError: string;
  /** Share of fresh tasks audited, in percent. */
  readonly auditPercent: string;
  /** Share of fresh tasks an anchor computes, in percent. */
  readonly anchorPercent: string;
  /** Peer ids trusted as anchors, one per line or separated by commas. */
  readonly trustedDonors: string;
}

/** The trust fields of the form as shared's DEFAULT_POLICY sets them. */
export const TRUST_FORM_DEFAULTS: Pick<
  PolicyForm,
  'maxReplicas' | 'targetError' | 'auditPercent' | 'anchorPercent' | 'trustedDonors'
> = {
  maxReplicas: String(DEFAULT_POLICY.maxReplicas),
  targetError: formatBound(DEFAULT_POLICY.targetError),
  auditPercent: percentText(DEFAULT_POLICY.auditRate),
  anchorPercent: percentText(DEFAULT_POLICY.anchorShare),
  trustedDonors: DEFAULT_POLICY.trustedDonors.join('\n'),
};

export type PolicyResult = { ok: true; policy: Partial<Policy> } | { ok: false; error: string };

/** Most replicas the form offers (the engine may add more on disagreement). Default 5. */
export const MAX_FORM_REPLICAS = 5;
/** Most results a task may grow to in the form. Default 30. */
export const MAX_FORM_MAX_REPLICAS = 30;

function percentText(share: number): string {
  return String(Math.round(share * 1e6) / 1e4);
}

/** A share in [0, 1) from a percentage in [0, 100), or null. */
function share(text: string): number | null {
  const t = text.trim();
  const pct = t === '' ? Number.NaN : Number(t);
  return Number.isFinite(pct) && pct >= 0 && pct < 100 ? pct / 100 : null;
}

/** Peer ids from one per line or comma-separated, or the first that is not one. */
export function parseTrustedDonors(
  text: string,
): { ok: true; ids: string[] } | { ok: false; bad: string } {
  const ids: string[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    if (raw === '') continue;
    if (!isPeerId(raw)) return { ok: false, bad: raw };
    if (!ids.includes(raw)) ids.push(raw);
  }
  return { ok: true, ids };
}

/** Checks the form and builds a policy, or says what is wrong in words. */
export function policyFromForm(f: PolicyForm): PolicyResult {
  const replicas = Number(f.replicas);
  const quorum = Number(f.quorum);
  const deadline = Number(f.deadlineS);
  const maxReplicas = Number(f.maxReplicas);
  const targetError = f.targetError.trim() === '' ? Number.NaN : Number(f.targetError);
  const auditRate = share(f.auditPercent);
  const anchorShare = share(f.anchorPercent);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_FORM_REPLICAS) {
    return { ok: false, error: `Replicas must be a whole number from 1 to ${MAX_FORM_REPLICAS}.` };
  }
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > replicas) {
    return { ok: false, error: 'Quorum must be at least 1 and at most the number of replicas.' };
  }
  if (
    !Number.isInteger(maxReplicas) ||
    maxReplicas < replicas ||
    maxReplicas > MAX_FORM_MAX_REPLICAS
  ) {
    return {
      ok: false,
      error: `Max replicas must be a whole number from the replicas (${replicas}) to ${MAX_FORM_MAX_REPLICAS}.`,
    };
  }
  if (!Number.isFinite(deadline) || deadline <= 0 || deadline > 3600) {
    return { ok: false, error: 'The deadline must be between 1 and 3600 seconds.' };
  }
  if (!(targetError > 0 && targetError < 1)) {
    return {
      ok: false,
      error: 'The target error must be a number above 0 and below 1, such as 1e-4 or 0.001.',
    };
  }
  if (auditRate === null) {
    return { ok: false, error: 'The audit rate must be a percentage from 0 to below 100.' };
  }
  if (anchorShare === null) {
    return { ok: false, error: 'The anchor share must be a percentage from 0 to below 100.' };
  }
  const trusted = parseTrustedDonors(f.trustedDonors);
  if (!trusted.ok) {
    return {
      ok: false,
      error: `Trusted donors: "${trusted.bad}" is not a peer id (32 characters of a–z and 2–7, as a node worker prints it when it joins).`,
    };
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
      maxReplicas,
      compare,
      taskDeadlineMs: deadline * 1000,
      targetError,
      auditRate,
      anchorShare,
      trustedDonors: trusted.ids,
    },
  };
}
