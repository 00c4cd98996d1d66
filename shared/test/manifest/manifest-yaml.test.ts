/**
 * YAML manifests: the same document as its JSON gives the same job; syntax
 * errors name their line and column; every other check and message is the
 * JSON one.
 */
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy.ts';
import { utf8 } from '../../src/job/utf8.ts';
import { loadManifestJob, type ManifestEnv } from '../../src/manifest/build-manifest-job.ts';
import { parseManifestDoc } from '../../src/manifest/manifest-doc.ts';
import { manifestFormatOf, parseManifestText } from '../../src/manifest/manifest-text.ts';
import { tensorFrom } from '../../src/tensor.ts';

const env: ManifestEnv = {
  read: async (p) =>
    p === 'a.onnx'
      ? utf8('a')
      : p === 'x.npy'
        ? encodeNpy(tensorFrom('float32', [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])))
        : null,
  describeModel: () => ({
    inputs: [{ name: 'x', dtype: 'float32', shape: [null, 2] }],
    outputs: [{ name: 'h', dtype: 'float32', shape: [null, 3] }],
  }),
  sha256: async (b) => `${b.byteLength.toString(16)}`.padStart(64, '0'),
};

const JSON_TEXT = JSON.stringify({
  name: 'rows',
  models: { a: 'a.onnx' },
  tasks: [
    { id: 'f', model: 'a', forEach: { rows: 2 }, feeds: { x: { file: 'x.npy', split: true } } },
  ],
  policy: { replicas: 2, compare: 'tolerance:1e-5' },
});

const YAML_TEXT = `# the same manifest, as a person writes YAML
name: rows
models:
  a: a.onnx
tasks:
  - id: f
    model: a
    forEach: { rows: 2 }
    feeds:
      x: { file: x.npy, split: true }
policy:
  replicas: 2
  compare: "tolerance:1e-5"
`;

describe('YAML manifests', () => {
  it('tells the format by the file name', () => {
    expect(manifestFormatOf('job.yaml')).toBe('yaml');
    expect(manifestFormatOf('dir/JOB.YML')).toBe('yaml');
    expect(manifestFormatOf('job.json')).toBe('json');
  });

  it('a YAML manifest gives the job its JSON gives', async () => {
    const fromJson = await loadManifestJob(JSON_TEXT, env);
    const fromYaml = await loadManifestJob(YAML_TEXT, env, 'yaml');
    if (!fromJson.ok || !fromYaml.ok) throw new Error('refused');
    expect(fromYaml.spec).toEqual(fromJson.spec);
    expect(fromYaml.stages).toEqual([{ id: 'f', count: 2, fanOut: true }]);
  });

  it('a syntax error names its line and column', () => {
    const r = parseManifestDoc('name: x\nmodels: { a: a.onnx\ntasks: []\n', 'yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.code).toBe('bad-manifest');
    expect(r.problems[0]?.message).toMatch(/^not valid YAML: line 3, column \d+: /);
  });

  it('refuses duplicate keys, with their line', () => {
    const r = parseManifestText('name: a\nname: b\n', 'yaml');
    expect(r).toEqual({
      ok: false,
      error: expect.stringMatching(/^not valid YAML: line 2, column 1: Map keys must be unique/),
    });
  });

  it('the other checks and messages are the JSON ones', async () => {
    const yaml = YAML_TEXT.replace('    model: a\n', '    model: b\n    colour: red\n');
    const json = JSON.parse(JSON_TEXT);
    json.tasks[0].model = 'b';
    json.tasks[0].colour = 'red';
    const a = await loadManifestJob(yaml, env, 'yaml');
    const b = await loadManifestJob(JSON.stringify(json), env);
    expect(a.ok).toBe(false);
    expect(a).toEqual(b);
    if (!a.ok) expect(a.problems.map((p) => p.message)).toEqual(['task f.colour: unknown field']);
  });

  it('JSON text read as JSON still names JSON in its error', () => {
    const r = parseManifestDoc('{"name": ', 'json');
    expect(!r.ok && r.problems[0]?.message).toMatch(/^not valid JSON: /);
  });
});
