/**
 * Runs examples/ocr end to end: det.json on a grid through `peergrid run`,
 * crops from its results on this machine, rec.json on the grid, text; then
 * compares the text with examples/ocr/reference.json. `--local` runs both
 * manifests on this machine's onnxruntime-node instead.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  localManifestRunner,
  type ManifestRunner,
  OCR_EXAMPLE_DIR,
  runOcrPipeline,
} from '../src/examples/ocr-pipeline.ts';

const USAGE = `npm run example:ocr -w node-worker -- (--signal URL [--grid NAME] [--state DIR] | --local) [--work DIR]

Batch OCR with detection feeding recognition (examples/ocr): runs det.json,
cuts the crops, writes rec.json and crops.npz into --work, runs rec.json,
decodes the text with the key file and compares it with reference.json.

  --signal URL    signaling server of the grid (peergrid run --signal)
  --grid NAME     grid                                      default: default
  --state DIR     peergrid run --state                      default: its own
  --local         run the manifests here (onnxruntime-node, cpu) instead
  --work DIR      where det.npz, crops.npz, rec.json, rec.npz go   default: a temp dir
  -h, --help      this help`;

const { values } = parseArgs({
  options: {
    signal: { type: 'string' },
    grid: { type: 'string', default: 'default' },
    state: { type: 'string' },
    local: { type: 'boolean', default: false },
    work: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.local && !values.signal) {
  console.error(`give --signal URL or --local\n\n${USAGE}`);
  process.exit(2);
}
const say = (line: string) => process.stderr.write(`${line}\n`);
const work = values.work ?? mkdtempSync(join(tmpdir(), 'peergrid-ocr-'));
const CLI = fileURLToPath(new URL('../bin/peergrid.js', import.meta.url));
const cliRunner: ManifestRunner = (manifest, out) =>
  new Promise((resolve, reject) => {
    const args = ['run', manifest, '--signal', values.signal!, '--grid', values.grid, '--out', out];
    if (values.state) args.push('--state', values.state);
    say(`peergrid ${args.join(' ')}`);
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    c.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`peergrid run exited ${code}`)),
    );
  });
const local = values.local ? localManifestRunner() : null;
try {
  const text = await runOcrPipeline(local?.run ?? cliRunner, work, say);
  const ref = JSON.parse(readFileSync(join(OCR_EXAMPLE_DIR, 'reference.json'), 'utf8'));
  for (const [image, lines] of Object.entries(text)) say(`${image}: ${lines.join(' | ')}`);
  const same = JSON.stringify(text) === JSON.stringify(ref);
  say(same ? 'equals reference.json' : 'differs from reference.json');
  console.log(JSON.stringify({ example: 'ocr', work, equalsReference: same, text }));
  process.exitCode = same ? 0 : 1;
} finally {
  await local?.close();
}
