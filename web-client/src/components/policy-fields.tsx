import { MAX_FORM_MAX_REPLICAS, MAX_FORM_REPLICAS, type PolicyForm } from '../lib/policy-form.ts';

type Setter = (k: keyof PolicyForm) => (e: { target: { value: string } }) => void;

/** One labelled input of the policy form, with its hint (a number unless `decimal`). */
function InputField(p: {
  id: string;
  label: string;
  name: keyof PolicyForm;
  form: PolicyForm;
  set: Setter;
  hint: string;
  min?: number;
  max?: number;
  step?: string;
  /** A decimal written as text (e.g. 1e-4), not a number input. */
  decimal?: boolean;
}) {
  return (
    <div className="field">
      <label htmlFor={p.id}>{p.label}</label>
      <input
        id={p.id}
        type={p.decimal ? 'text' : 'number'}
        {...(p.decimal ? { inputMode: 'decimal' as const } : {})}
        {...(p.min !== undefined ? { min: p.min } : {})}
        {...(p.max !== undefined ? { max: p.max } : {})}
        {...(p.step !== undefined ? { step: p.step } : {})}
        value={p.form[p.name]}
        data-testid={`policy-${p.id}`}
        onChange={p.set(p.name)}
      />
      <span className="hint">{p.hint}</span>
    </div>
  );
}

/** Replicas, quorum, comparison and deadline: how results are compared. */
export function ComparisonFields({ form, set }: { form: PolicyForm; set: Setter }) {
  return (
    <div className="policy">
      <InputField
        id="replicas"
        label="Replicas"
        name="replicas"
        form={form}
        set={set}
        min={1}
        max={MAX_FORM_REPLICAS}
        hint="Donors that run each task at first."
      />
      <InputField
        id="quorum"
        label="Quorum"
        name="quorum"
        form={form}
        set={set}
        min={1}
        max={MAX_FORM_REPLICAS}
        hint="Matching answers to accept."
      />
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
      <InputField
        id="deadline"
        label="Deadline per task (s)"
        name="deadlineS"
        form={form}
        set={set}
        min={1}
        max={3600}
        hint="A donor past it loses the task."
      />
    </div>
  );
}

/** Target error, audits, anchors and the replicas a task may grow to: how far results are trusted. */
export function TrustFields({ form, set }: { form: PolicyForm; set: Setter }) {
  return (
    <div className="policy">
      <InputField
        id="target-error"
        label="Target error"
        name="targetError"
        form={form}
        set={set}
        decimal
        hint="Largest chance a result may be wrong; the job completes when every result is under it."
      />
      <InputField
        id="max-replicas"
        label="Max replicas"
        name="maxReplicas"
        form={form}
        set={set}
        min={1}
        max={MAX_FORM_MAX_REPLICAS}
        hint="Results a task may grow to while it is short of the target (new donors need several)."
      />
      <InputField
        id="audit-rate"
        label="Audit rate (%)"
        name="auditPercent"
        form={form}
        set={set}
        min={0}
        max={99}
        step="any"
        hint="Tasks given one hidden extra replica, looking like any other."
      />
      <InputField
        id="anchor-share"
        label="Anchor share (%)"
        name="anchorPercent"
        form={form}
        set={set}
        min={0}
        max={99}
        step="any"
        hint="Tasks an anchor (this tab, a trusted donor) computes beside a donor."
      />
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
