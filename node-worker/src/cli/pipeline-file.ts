/**
 * `peergrid run pipeline.json`: a pipeline's files through node:fs. Paths
 * are relative to the pipeline's folder (absolute paths are taken as they
 * are); models are described from their ModelProto (onnx-proto). The
 * pipeline's rules, checks and steps are shared's `runPipeline`, the same
 * the page runs.
 */
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  isPipelineValue,
  type ManifestFormat,
  manifestFormatOf,
  type PipelineEnv,
  parseManifestText,
} from '@peergrid/shared';
import { nodeManifestFiles, readManifestText } from './manifest-file.ts';

/** A manifest-like file read and parsed: its text, format, and whether it is a pipeline. */
export async function readJobFile(
  path: string,
): Promise<{ text: string; format: ManifestFormat; pipeline: boolean }> {
  const text = await readManifestText(path);
  const format = manifestFormatOf(path);
  const parsed = parseManifestText(text, format);
  return { text, format, pipeline: parsed.ok && isPipelineValue(parsed.value) };
}

/** The file system half of a pipeline's env, relative to the pipeline file's folder. */
export function nodePipelineFiles(
  pipelinePath: string,
): Pick<PipelineEnv, 'read' | 'exists' | 'describeModel' | 'sha256'> {
  const base = dirname(resolve(pipelinePath));
  return {
    ...nodeManifestFiles(pipelinePath),
    exists: async (p) => {
      try {
        return (await stat(isAbsolute(p) ? p : resolve(base, p))).isFile();
      } catch {
        return false;
      }
    },
  };
}
