/** `peergrid run` flags → options: the verification flags, their defaults and their errors. */
import { DEFAULT_POLICY } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { parseRunArgs, RUN_USAGE } from '../../src/cli/run-args.ts';

const ID_A = 'a'.repeat(32);
const ID_B = `${'b'.repeat(31)}7`;
const base = ['--signal', 'ws://127.0.0.1:9', '--workload', 'matmul'];
const parse = (argv: string[]) => parseRunArgs([...base, ...argv]);
const options = (argv: string[]) => {
  const p = parse(argv);
  if (p.kind !== 'ok') throw new Error(p.kind === 'error' ? p.message : p.kind);
  return p.options;
};
const error = (argv: string[]) => {
  const p = parse(argv);
  return p.kind === 'error' ? p.message : `no error (${p.kind})`;
};

describe('peergrid run flags', () => {
  it('leaves the policy at its defaults and runs the local anchor unless told otherwise', () => {
    const o = options([]);
    expect(o.policy).toEqual({});
    expect(o.localAnchor).toBe(true);
    expect(options(['--no-local-anchor']).localAnchor).toBe(false);
  });

  it('puts the verification flags in the policy', () => {
    const o = options([
      '--target-error',
      '1e-3',
      '--audit-rate',
      '0',
      '--anchor-share',
      '0.25',
      '--max-replicas',
      '6',
      '--trusted-donor',
      ID_B,
      '--trusted-donor',
      ID_A,
      '--trusted-donor',
      ID_B,
    ]);
    expect(o.policy).toEqual({
      targetError: 1e-3,
      auditRate: 0,
      anchorShare: 0.25,
      maxReplicas: 6,
      // Sorted and once each: the job id does not depend on the flags' order.
      trustedDonors: [ID_A, ID_B],
    });
  });

  it('lifts the replica cap with more replicas than it allows', () => {
    const over = DEFAULT_POLICY.maxReplicas + 2;
    expect(options(['--replicas', String(over)]).policy).toMatchObject({
      replicas: over,
      maxReplicas: over,
    });
    expect(options(['--replicas', '3']).policy).toEqual({ replicas: 3, quorum: 2 });
  });

  it('refuses bad values with a message naming the flag', () => {
    expect(error(['--target-error', '0'])).toMatch(/--target-error must be a number in \(0, 1\)/);
    expect(error(['--target-error', '1'])).toMatch(/--target-error/);
    expect(error(['--target-error', 'small'])).toMatch(/--target-error/);
    expect(error(['--audit-rate', '1'])).toMatch(/--audit-rate must be a number in \[0, 1\)/);
    expect(error(['--audit-rate', ''])).toMatch(/--audit-rate/);
    expect(error(['--anchor-share', '-0.1'])).toMatch(/--anchor-share/);
    expect(error(['--max-replicas', '0'])).toMatch(/--max-replicas must be an integer >= 1/);
    expect(error(['--replicas', '4', '--max-replicas', '3'])).toMatch(
      /--max-replicas must be >= --replicas \(4\)/,
    );
    expect(error(['--max-replicas', '1'])).toMatch(/>= --replicas \(2\)/);
    expect(error(['--trusted-donor', 'me'])).toMatch(/--trusted-donor must be a peer id/);
    expect(error(['--trust-streak', '2'])).toMatch(/trust-streak/);
    expect(error(['--trust-spot-checks', '0'])).toMatch(/trust-spot-checks/);
  });

  it('documents the flags with the shared defaults, and what replaced the trust flags', () => {
    for (const flag of [
      '--target-error',
      '--audit-rate',
      '--trusted-donor',
      '--anchor-share',
      '--no-local-anchor',
      '--max-replicas',
    ]) {
      expect(RUN_USAGE).toContain(flag);
    }
    expect(RUN_USAGE).toMatch(/--target-error[^\n]*\n[^\n]*\n[^\n]*default: 1e-4/);
    expect(RUN_USAGE).toContain(`default: ${DEFAULT_POLICY.maxReplicas}`);
    expect(RUN_USAGE).toMatch(/--trust-streak and --trust-spot-checks are gone/);
  });
});

describe('peergrid run input flags', () => {
  const model = (argv: string[]) =>
    parseRunArgs(['--signal', 'ws://127.0.0.1:9', '--model', 'm.onnx', ...argv]);
  const ok = (argv: string[]) => {
    const p = model(argv);
    if (p.kind !== 'ok') throw new Error(p.kind === 'error' ? p.message : p.kind);
    return p.options;
  };
  const refused = (argv: string[]) => {
    const p = model(argv);
    return p.kind === 'error' ? p.message : `no error (${p.kind})`;
  };

  it('takes repeated --input NAME=PATH and --const in order', () => {
    const o = ok([
      '--input',
      'input_ids=ids/',
      '--input',
      'attention_mask=a=b.npy',
      '--const',
      'temperature=0.7:float32',
      '--const',
      'mask=[1,1,0]:int64',
      '--const',
      'bias=[[0.5],[1]]',
      '--const',
      'w=@w.npy',
    ]);
    expect(o.namedInputs).toEqual([
      { name: 'input_ids', path: 'ids/' },
      { name: 'attention_mask', path: 'a=b.npy' },
    ]);
    expect(o.consts).toEqual([
      { name: 'temperature', value: 0.7, dtype: 'float32' },
      { name: 'mask', value: [1, 1, 0], dtype: 'int64' },
      { name: 'bias', value: [[0.5], [1]] },
      { name: 'w', file: 'w.npy' },
    ]);
    expect(o.inputs).toBeUndefined();
    // Today's single-input form is unchanged.
    expect(ok(['--inputs', 'x.npy', '--input-name', 'pixels'])).toMatchObject({
      inputs: 'x.npy',
      inputName: 'pixels',
    });
  });

  it('refuses malformed, doubled and conflicting input flags', () => {
    expect(refused([])).toMatch(
      /give a job manifest \(JOB.json\), --model with --inputs PATH or --input NAME=PATH/,
    );
    expect(refused(['--input', 'ids'])).toBe("--input must be NAME=PATH, got 'ids'");
    expect(refused(['--input', 'a=x', '--input', 'a=y'])).toBe('--input a given twice');
    expect(refused(['--inputs', 'd', '--input', 'a=x'])).toMatch(/--inputs and --input exclude/);
    expect(refused(['--input', 'a=x', '--input-name', 'a'])).toMatch(
      /--input-name goes with --inputs/,
    );
    expect(refused(['--inputs', 'd', '--const', 't=0.7:float16'])).toMatch(
      /--const t: unknown dtype 'float16' \(one of float32/,
    );
    expect(refused(['--inputs', 'd', '--const', 't=warm'])).toMatch(
      /--const t: the value must be a number or a JSON array/,
    );
    expect(refused(['--inputs', 'd', '--const', 't'])).toMatch(
      /--const must be NAME=VALUE:DTYPE or NAME=@FILE/,
    );
    expect(refused(['--inputs', 'd', '--const', 't=@'])).toMatch(/give a file after @/);
    expect(refused(['--inputs', 'd', '--const', 't=1', '--const', 't=2'])).toBe(
      '--const t given twice',
    );
    expect(refused(['--input', 'a=x', '--const', 'a=1'])).toBe('a is given by --input and --const');
    expect(error(['--const', 't=1'])).toMatch(/--input and --const go with --model/);
  });

  it('documents the input forms', () => {
    for (const flag of [
      '--inputs PATH',
      '--input NAME=PATH',
      '--const NAME=VALUE:DTYPE',
      'NAME=@FILE',
      '.npz',
    ]) {
      expect(RUN_USAGE).toContain(flag);
    }
  });
});

describe('peergrid run JOB.json', () => {
  const base = ['--signal', 'ws://127.0.0.1:1'];
  it('takes a manifest as the argument or as --manifest, with policy flags beside it', () => {
    for (const argv of [['job.json'], ['--manifest', 'job.json']]) {
      const r = parseRunArgs([...argv, ...base, '--replicas', '3', '--out', 'r.npz']);
      expect(r.kind).toBe('ok');
      if (r.kind !== 'ok') return;
      expect(r.options.manifest).toBe('job.json');
      expect(r.options.policy.replicas).toBe(3);
      expect(r.options.out).toBe('r.npz');
    }
  });

  it('refuses a manifest with --model, --workload or --input, and two manifests', () => {
    const refused = (argv: string[]) => {
      const r = parseRunArgs([...argv, ...base]);
      return r.kind === 'error' ? r.message : `not refused: ${r.kind}`;
    };
    expect(refused(['job.json', '--model', 'm.onnx'])).toMatch(
      /--model does not go with a job manifest/,
    );
    expect(refused(['job.json', '--workload', 'mnist'])).toMatch(
      /--workload does not go with a job manifest/,
    );
    expect(refused(['job.json', '--input', 'x=a.npy'])).toMatch(
      /--input does not go with a job manifest/,
    );
    expect(refused(['a.json', 'b.json'])).toMatch(/give one job manifest, got a.json, b.json/);
    expect(refused(['a.json', '--manifest', 'b.json'])).toMatch(/give one job manifest/);
  });

  it('documents the manifest and the streamed outputs', () => {
    expect(RUN_USAGE).toMatch(/JOB\.json\s+a job manifest/);
    expect(RUN_USAGE).toMatch(/results\.npz: an \.npz archive/);
    expect(RUN_USAGE).toMatch(/DIR\/: a folder of\s+DIR\/TASK\/OUTPUT\.npy files/);
  });
});
