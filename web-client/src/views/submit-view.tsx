import { useState } from 'react';
import { PipelinePanel } from '../components/pipeline-panel.tsx';
import { ComparisonFields, TrustFields } from '../components/policy-fields.tsx';
import { customDraft } from '../lib/custom-draft.ts';
import { checkUploads } from '../lib/custom-job.ts';
import { mnistDraft, ocrDraft } from '../lib/fetch-samples.ts';
import { manifestDraft } from '../lib/manifest-draft.ts';
import { pipelineRun, readManifestUpload, startPipeline } from '../lib/pipeline-run.ts';
import { type PolicyForm, policyFromForm, TRUST_FORM_DEFAULTS } from '../lib/policy-form.ts';
import { routeHash } from '../lib/route.ts';
import { useStore } from '../state/hooks.ts';
import type { PageRuntime } from '../state/runtime.ts';

type Choice = 'mnist' | 'ocr' | 'custom' | 'manifest';

const CHOICES: readonly { id: Choice; title: string; desc: string }[] = [
  {
    id: 'mnist',
    title: 'Digit classification',
    desc: 'MNIST test digits through a small MLP; labels checked against the truth.',
  },
  {
    id: 'ocr',
    title: 'Text detection',
    desc: 'PP-OCRv4 detector on sample images; text regions drawn on each image.',
  },
  {
    id: 'custom',
    title: 'Your own model',
    desc: 'Upload an ONNX model and inputs (.npy, .npz, JSON, images): one task per input file.',
  },
  {
    id: 'manifest',
    title: 'A job manifest',
    desc: 'A job.json (or .yaml) with its models and files: several models, fan-out, fan-in, its own policy; or a pipeline of manifests and steps.',
  },
];

const DEFAULT_FORMS: Record<Choice, PolicyForm> = {
  mnist: {
    replicas: '2',
    quorum: '2',
    compare: 'argmax',
    tolerance: '0.001',
    axis: '1',
    deadlineS: '30',
    ...TRUST_FORM_DEFAULTS,
  },
  ocr: {
    replicas: '2',
    quorum: '2',
    compare: 'tolerance',
    tolerance: '0.02',
    axis: '1',
    deadlineS: '120',
    ...TRUST_FORM_DEFAULTS,
  },
  custom: {
    replicas: '2',
    quorum: '2',
    compare: 'tolerance',
    tolerance: '0.001',
    axis: '1',
    deadlineS: '60',
    ...TRUST_FORM_DEFAULTS,
  },
  // Unused: a manifest brings its own policy.
  manifest: {
    replicas: '2',
    quorum: '2',
    compare: 'exact',
    tolerance: '0.001',
    axis: '1',
    deadlineS: '60',
    ...TRUST_FORM_DEFAULTS,
  },
};

export function SubmitView({ runtime }: { runtime: PageRuntime }) {
  const [choice, setChoice] = useState<Choice>('mnist');
  const [form, setForm] = useState<PolicyForm>(DEFAULT_FORMS.mnist);
  const [digits, setDigits] = useState('200');
  const [batch, setBatch] = useState('20');
  const [model, setModel] = useState<File | null>(null);
  const [inputs, setInputs] = useState<File[]>([]);
  const [manifest, setManifest] = useState<File | null>(null);
  const [manifestFiles, setManifestFiles] = useState<File[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pipeline = useStore(pipelineRun());

  const pick = (c: Choice) => {
    setChoice(c);
    // How far to trust results does not depend on the sample: those fields stay as typed.
    setForm((f) => ({
      ...DEFAULT_FORMS[c],
      ...Object.fromEntries(
        Object.keys(TRUST_FORM_DEFAULTS).map((k) => [k, f[k as keyof PolicyForm]]),
      ),
    }));
    setError(null);
  };
  const set = (k: keyof PolicyForm) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));

  async function submit() {
    setError(null);
    const policy = policyFromForm(form);
    if (!policy.ok) return setError(policy.error);
    if (choice === 'custom') {
      const problem = checkUploads(model, inputs);
      if (problem) return setError(problem);
    }
    if (choice === 'manifest' && !manifest)
      return setError('Choose a job manifest or pipeline (.json, .yaml, .yml).');
    try {
      if (choice === 'manifest') {
        const file = await readManifestUpload(manifest as File);
        if (file.pipeline) {
          // A pipeline runs here stage by stage; its panel below follows it.
          setBusy('Checking the pipeline, its manifests and files…');
          await startPipeline(runtime, manifest as File, manifestFiles, file.text, file.format);
          return;
        }
      }
      setBusy(
        choice === 'custom'
          ? 'Checking the model and inputs…'
          : choice === 'manifest'
            ? 'Checking the manifest, its models and files…'
            : 'Loading the sample…',
      );
      const draft =
        choice === 'mnist'
          ? await mnistDraft(Number(digits), Number(batch), policy.policy)
          : choice === 'ocr'
            ? await ocrDraft(policy.policy)
            : choice === 'manifest'
              ? await manifestDraft((m) => runtime.inspectModel(m), manifest as File, manifestFiles)
              : await customDraft(
                  (m) => runtime.inspectModel(m),
                  model as File,
                  inputs,
                  policy.policy,
                );
      setBusy('Saving the job…');
      const r = await runtime.submit(draft);
      if (!r.ok) return setError(r.error);
      window.location.hash = routeHash({ view: 'job', id: r.jobId });
    } catch (e) {
      setError((e as Error).message ?? String(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <section className="panel">
        <h1>Submit a job</h1>
        <p className="muted">
          This tab coordinates the job: it hands tasks to donors, compares their answers and keeps
          the results. The job is saved in this browser first, so a reload picks it up again.
        </p>
      </section>
      <section className="panel stack">
        <h2>1 · What to run</h2>
        <div className="choices">
          {CHOICES.map((c) => (
            <button
              key={c.id}
              type="button"
              className="choice"
              aria-pressed={choice === c.id}
              data-testid={`sample-${c.id}`}
              onClick={() => pick(c.id)}
            >
              <span className="title">{c.title}</span>
              <span className="desc">{c.desc}</span>
            </button>
          ))}
        </div>
        {choice === 'mnist' && (
          <div className="policy">
            <div className="field">
              <label htmlFor="digits">Digits</label>
              <select
                id="digits"
                value={digits}
                data-testid="mnist-digits"
                onChange={(e) => setDigits(e.target.value)}
              >
                {['20', '100', '200', '500', '1000'].map((n) => (
                  <option key={n}>{n}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="batch">Digits per task</label>
              <select
                id="batch"
                value={batch}
                data-testid="mnist-batch"
                onChange={(e) => setBatch(e.target.value)}
              >
                {['10', '20', '50', '100'].map((n) => (
                  <option key={n}>{n}</option>
                ))}
              </select>
            </div>
          </div>
        )}
        {choice === 'custom' && (
          <div className="grid-2">
            <div className="field">
              <label htmlFor="model-file">ONNX model</label>
              <input
                id="model-file"
                type="file"
                accept=".onnx"
                data-testid="model-file"
                onChange={(e) => setModel(e.target.files?.[0] ?? null)}
              />
              <span className="hint">
                Up to 64 MiB. Runs as data in the donors' ONNX Runtime, never as code.
              </span>
            </div>
            <div className="field">
              <label htmlFor="inputs-file">Inputs</label>
              <input
                id="inputs-file"
                type="file"
                multiple
                accept=".npy,.npz,.json,image/*"
                data-testid="inputs-file"
                onChange={(e) => setInputs([...(e.target.files ?? [])])}
              />
              <span className="hint">
                One task per file. A model with one input: .npy, JSON (
                <code>{'{"dtype","dims","data"}'}</code> or nested arrays) or images. With several
                inputs: an .npz (one array per input name) or a JSON object keyed by input name.
                Names, dtypes and shapes are checked against the model before anything is sent.
              </span>
            </div>
          </div>
        )}
        {choice === 'manifest' && (
          <div className="grid-2">
            <div className="field">
              <label htmlFor="manifest-file">Manifest</label>
              <input
                id="manifest-file"
                type="file"
                accept=".json,.yaml,.yml,application/json"
                data-testid="manifest-file"
                onChange={(e) => setManifest(e.target.files?.[0] ?? null)}
              />
              <span className="hint">
                A job.json (or job.yaml) naming models by path, tasks with feeds from files,
                constants or other tasks' outputs, fan-out (<code>forEach</code>) and fan-in (
                <code>{'part{i}'}</code>), and a policy. Or a pipeline (<code>stages</code>): job
                manifests and built-in steps between them, run here in order. Checked whole before
                anything is stored.
              </span>
            </div>
            <div className="field">
              <label htmlFor="manifest-files">Its files</label>
              <input
                id="manifest-files"
                type="file"
                multiple
                accept=".onnx,.npy,.npz,.json,.yaml,.yml,.txt"
                data-testid="manifest-files"
                onChange={(e) => setManifestFiles([...(e.target.files ?? [])])}
              />
              <span className="hint">
                Every model and tensor file the manifest names (.onnx, .npy, .npz, .json); for a
                pipeline also its manifests and the files its steps read (a key file). Matched by
                file name.
              </span>
            </div>
          </div>
        )}
      </section>
      {pipeline && <PipelinePanel run={pipeline} />}
      <section className="panel stack">
        <h2>2 · How to trust the answers</h2>
        {choice === 'manifest' ? (
          <p className="muted" data-testid="manifest-policy">
            The manifest's <code>policy</code> applies (replicas, quorum, comparison, trust); what
            it leaves out takes the defaults.
          </p>
        ) : (
          <>
            <ComparisonFields form={form} set={set} />
            <h3>Trust</h3>
            <TrustFields form={form} set={set} />
          </>
        )}
        {error && (
          <div className="alert bad" role="alert" data-testid="submit-error">
            {error}
          </div>
        )}
        <div className="row">
          <button
            type="button"
            className="btn primary big"
            data-testid="submit-job"
            disabled={busy !== null}
            onClick={() => void submit()}
          >
            {busy ? 'Working…' : 'Submit job'}
          </button>
          {busy && (
            <span className="muted" data-testid="submit-busy">
              {busy}
            </span>
          )}
        </div>
      </section>
    </>
  );
}
