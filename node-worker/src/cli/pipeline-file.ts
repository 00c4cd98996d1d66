/**
 * `peergrid run pipeline.json`: a pipeline's files through node:fs. Paths
 * are relative to the pipeline's folder (absolute paths are taken as they
 * are); models are described from their ModelProto (onnx-proto). The
 * pipeline's rules, checks and steps are shared's `runPipeline`, the same
 * the page runs.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  isPipelineValue,
  type ManifestFormat,
  manifestFormatOf,
  type PipelineEnv,
  parseManifestText,
} from '@peergrid/shared';
import { describeOnnxModel } from '../inputs/model-inputs.ts';
import { nodeSha256 } from '../transport/node-peer-pool.ts';

/** A manifest-like file read and parsed: its text, format, and whether it is a pipeline. */
export async function readJobFile(
  path: string,
): Promise<{ text: string; format: ManifestFormat; pipeline: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(
      `${path}: cannot read the manifest (${(e as NodeJS.ErrnoException).code ?? e})`,
    );
  }
  const format = manifestFormatOf(path);
  const parsed = parseManifestText(text, format);
  return { text, format, pipeline: parsed.ok && isPipelineValue(parsed.value) };
}

/** The file system half of a pipeline's env, relative to the pipeline file's folder. */
export function nodePipelineFiles(
  pipelinePath: string,
): Pick<PipelineEnv, 'read' | 'exists' | 'describeModel' | 'sha256'> {
  const base = dirname(resolve(pipelinePath));
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    read: async (p) => {
      try {
        return new Uint8Array(await readFile(at(p)));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR') return null;
        throw e;
      }
    },
    exists: async (p) => {
      try {
        return (await stat(at(p))).isFile();
      } catch {
        return false;
      }
    },
    describeModel: describeOnnxModel,
    sha256: nodeSha256,
  };
}
