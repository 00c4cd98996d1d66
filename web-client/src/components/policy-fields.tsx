import { MAX_FORM_MAX_REPLICAS, MAX_FORM_REPLICAS, type PolicyForm } from '../lib/policy-form.ts';

type Setter = (k: keyof PolicyForm) => (e: { target: { value: string } }) => void;

/** Replicas, quorum, comparison and deadline: how results are compared. */
export function ComparisonFields({ form, set }: { form: PolicyForm; set: Setter }) {
  return (
    <div className="policy">
      <div className="field">
        <label htmlFor="replicas">Replicas</label>
        <input
          id="replicas"
          type="number"
          min={1}
          max={MAX_FORM_REPLICAS}
          value={form.replicas}
          data-testid="policy-replicas"
          onChange={set('replicas')}
        />
        <span className="hint">Donors that run each task at first.</span>
      </div>
      <div className="field">
        <label htmlFor="quorum">Quorum</label>
        <input
          id="quorum"
          type="number"
          min={1}
          max={MAX_FORM_REPLICAS}
          value={form.quorum}
          data-testid="policy-quorum"
          onChange={set('quorum')}
        />
        <span className="hint">Matching answers to accept.</span>
      </div>
      <div className="field">
        <label htmlFor="compare">Comparison</label>
        <select
          id="compare"
          value={form.compare}
          data-testid="policy-compare"
          onChange={set('compare')}
        >
          <option value="exact">Exact bytes</option>
          <option value="tolerance">Numeric tolerance</option>
          <option value="argmax">Same label (argmax)</option>
        </select>
        {form.compare === 'tolerance' && (
          <span className="hint">Largest difference allowed (absolute and relative):</span>
        )}
        {form.compare === 'tolerance' && (
          <input
            type="number"
            step="any"
            min={0}
            value={form.tolerance}
            aria-label="Tolerance"
            data-testid="policy-tolerance"
            onChange={set('tolerance')}
          />
        )}
        {form.compare === 'argmax' && <span className="hint">Axis of the class scores:</span>}
        {form.compare === 'argmax' && (
          <input
            type="number"
            step={1}
            value={form.axis}
            aria-label="Argmax axis"
            data-testid="policy-axis"
            onChange={set('axis')}
          />
        )}
      </div>
      <div className="field">
        <label htmlFor="deadline">Deadline per task (s)</label>
        <input
          id="deadline"
          type="number"
          min={1}
          max={3600}
          value={form.deadlineS}
          data-testid="policy-deadline"
          onChange={set('deadlineS')}
        />
        <span className="hint">A donor past it loses the task.</span>
      </div>
    </div>
  );
}

/** Target error, audits, anchors and the replicas a task may grow to: how far results are trusted. */
export function TrustFields({ form, set }: { form: PolicyForm; set: Setter }) {
  return (
    <div className="policy">
      <div className="field">
        <label htmlFor="target-error">Target error</label>
        <input
          id="target-error"
          type="text"
          inputMode="decimal"
          value={form.targetError}
          data-testid="policy-target-error"
          onChange={set('targetError')}
        />
        <span className="hint">
          Largest chance a result may be wrong; the job completes when every result is under it.
        </span>
      </div>
      <div className="field">
        <label htmlFor="max-replicas">Max replicas</label>
        <input
          id="max-replicas"
          type="number"
          min={1}
          max={MAX_FORM_MAX_REPLICAS}
          value={form.maxReplicas}
          data-testid="policy-max-replicas"
          onChange={set('maxReplicas')}
        />
        <span className="hint">
          Results a task may grow to while it is short of the target (new donors need several).
        </span>
      </div>
      <div className="field">
        <label htmlFor="audit-rate">Audit rate (%)</label>
        <input
          id="audit-rate"
          type="number"
          min={0}
          max={99}
          step="any"
          value={form.auditPercent}
          data-testid="policy-audit-rate"
          onChange={set('auditPercent')}
        />
        <span className="hint">Tasks given one hidden extra replica, looking like any other.</span>
      </div>
      <div className="field">
        <label htmlFor="anchor-share">Anchor share (%)</label>
        <input
          id="anchor-share"
          type="number"
          min={0}
          max={99}
          step="any"
          value={form.anchorPercent}
          data-testid="policy-anchor-share"
          onChange={set('anchorPercent')}
        />
        <span className="hint">
          Tasks an anchor (this tab, a trusted donor) computes beside a donor.
        </span>
      </div>
      <div className="field wide">
        <label htmlFor="trusted-donors">Trusted donors</label>
        <textarea
          id="trusted-donors"
          rows={2}
          value={form.trustedDonors}
          placeholder="peer ids, one per line or separated by commas"
          data-testid="policy-trusted-donors"
          onChange={set('trustedDonors')}
        />
        <span className="hint">
          Donors you run yourself (e.g. your node workers): anchors, their results taken as right.
          This tab is always one.
        </span>
      </div>
    </div>
  );
}
