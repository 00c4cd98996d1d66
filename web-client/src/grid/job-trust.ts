import type { JobEvent, PeerId } from '@peergrid/shared';
import type { AnchorRow, AuditFigures, ExcludedRow } from '../state/types.ts';

/** What the job view shows of the checks behind a job's results, from its event log. */
export interface JobTrust {
  readonly audits: AuditFigures;
  /** Anchors by id (on offer, or that returned results), in first-seen order. */
  readonly anchors: readonly AnchorRow[];
  /** Donors excluded and not reinstated since, in the order they were excluded. */
  readonly excluded: readonly ExcludedRow[];
}

/**
 * Folds the job's whole event log, as stored: the engine's own progress
 * counters start over with each page session, the log does not. Audits are
 * `lease-issued` events marked `audit` and their `audit-passed` /
 * `audit-failed` outcomes; an anchor's results are its `lease-reported`
 * events; exclusions are `donor-excluded` (reason in `message`) until a
 * `donor-reinstated`.
 */
export function foldTrust(
  events: readonly JobEvent[],
  o: {
    /** Anchors the engine has on offer now (`progress.anchors.donors`). */
    readonly onOffer: readonly PeerId[];
    /** Donors this page runs as anchors (its own tab, `policy.trustedDonors`). */
    readonly isAnchor: (id: PeerId) => boolean;
  },
): JobTrust {
  const audits = { issued: 0, passed: 0, failed: 0 };
  const anchors = new Map<PeerId, number>(o.onOffer.map((id) => [id, 0]));
  const offered = new Set(o.onOffer);
  const isAnchor = (id: PeerId) => offered.has(id) || o.isAnchor(id);
  const excluded = new Map<PeerId, string>();
  for (const e of events) {
    switch (e.type) {
      case 'lease-issued':
        if (e.audit === true) audits.issued++;
        break;
      case 'audit-passed':
        audits.passed++;
        break;
      case 'audit-failed':
        audits.failed++;
        break;
      case 'lease-reported':
        if (e.donor !== undefined && isAnchor(e.donor))
          anchors.set(e.donor, (anchors.get(e.donor) ?? 0) + 1);
        break;
      case 'donor-excluded':
        if (e.donor !== undefined) {
          excluded.delete(e.donor); // excluded again: it moves to the end
          excluded.set(e.donor, e.message || 'no reason given');
        }
        break;
      case 'donor-reinstated':
        if (e.donor !== undefined) excluded.delete(e.donor);
        break;
      default:
        break;
    }
  }
  return {
    audits,
    anchors: [...anchors].map(([id, results]) => ({ id, results })),
    excluded: [...excluded].map(([donor, reason]) => ({ donor, reason })),
  };
}
