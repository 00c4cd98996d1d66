/**
 * Runs examples/ocr end to end: `peergrid run examples/ocr/pipeline.json`
 * on a grid (detection, crops here, recognition, text), then compares the
 * text with examples/ocr/reference.json. `--local` runs the same pipeline
 * with each manifest's job on this machine's onnxruntime-node instead.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OCR_EXAMPLE_DIR, OCR_PIPELINE, runPipelineLocally } from '../src/examples/ocr-pipeline.ts';

const USAGE = `npm run example:ocr -w node-worker -- (--signal URL [--grid NAME] [--state DIR] | --local) [--work DIR/]

Batch OCR with detection feeding recognition (examples/ocr/pipeline.json):
det.json on the grid, the ocr-crops step here, rec.json on the grid, the
ocr-text step here (the models' key file); the text is compared with
reference.json.

  --signal URL    signaling server of the grid (peergrid run --signal)
  --grid NAME     grid                                      default: default
  --state DIR     peergrid run --state                      default: its own
  --local         run the manifests here (onnxruntime-node, cpu) instead
  --work DIR/     keep every stage's output there (peergrid run --out DIR/)
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
const CLI = fileURLToPath(new URL('../bin/peergrid.js', import.meta.url));

/** `peergrid run pipeline.json`: its result (stdout), progress on stderr. */
const onGrid = (): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const args = ['run', OCR_PIPELINE, '--signal', values.signal!, '--grid', values.grid];
    if (values.state) args.push('--state', values.state);
    if (values.work)
      args.push('--out', values.work.endsWith('/') ? values.work : `${values.work}/`);
    say(`peergrid ${args.join(' ')}`);
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => {
      out += d;
    });
    c.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`peergrid run exited ${code}`)),
    );
  });

const text = (
  values.local ? await runPipelineLocally(OCR_PIPELINE, say) : await onGrid()
) as Record<string, string[]>;
const ref = JSON.parse(readFileSync(join(OCR_EXAMPLE_DIR, 'reference.json'), 'utf8'));
for (const [image, lines] of Object.entries(text)) say(`${image}: ${lines.join(' | ')}`);
const same = JSON.stringify(text) === JSON.stringify(ref);
say(same ? 'equals reference.json' : 'differs from reference.json');
console.log(JSON.stringify({ example: 'ocr', equalsReference: same, text }));
process.exitCode = same ? 0 : 1;
