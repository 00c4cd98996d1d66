/**
 * The OCR example's pipeline (examples/ocr/pipeline.json) run on this
 * machine: shared's `runPipeline` with each manifest's job run on
 * onnxruntime-node (cpu) instead of a grid. This is the reference
 * (reference.json); `peergrid run pipeline.json` and the page run the same
 * pipeline on a grid.
 */
import { join } from 'node:path';
import { type PipelineEnv, runPipeline } from '@peergrid/shared';
import { nodePipelineFiles, readJobFile } from '../cli/pipeline-file.ts';
import { specReference } from '../cli/spec-reference.ts';
import { createNodeExecutor } from '../exec/node-executor.ts';
import { EXAMPLES_DIR } from './reference-entries.ts';

export const OCR_EXAMPLE_DIR = join(EXAMPLES_DIR, 'ocr');
export const OCR_PIPELINE = join(OCR_EXAMPLE_DIR, 'pipeline.json');

/**
 * Runs a pipeline file here (onnxruntime-node, cpu, one session at a time);
 * resolves with its result (the last step's value). Throws with every
 * problem when it is refused or a stage fails.
 */
export async function runPipelineLocally(
  path: string = OCR_PIPELINE,
  say: (line: string) => void = () => {},
): Promise<unknown> {
  const executor = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
  try {
    const { text, format } = await readJobFile(path);
    const env: PipelineEnv = {
      ...nodePipelineFiles(path),
      runJob: (spec) => specReference(spec, executor, { backend: 'cpu' }),
      onStage: (e) => say(e.line),
    };
    const r = await runPipeline(text, env, format);
    if (!r.ok) throw new Error(`${path}:\n${r.problems.map((p) => `  ${p.message}`).join('\n')}`);
    return r.value;
  } finally {
    await executor.close();
  }
}
