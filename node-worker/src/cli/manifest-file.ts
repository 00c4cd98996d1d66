/**
 * `peergrid run job.json` (or job.yaml / job.yml): a manifest file read with node:fs. Its paths are
 * relative to the manifest's folder (absolute paths are taken as they are);
 * models are described from their ModelProto (onnx-proto). The manifest's
 * rules and checks are shared's `loadManifestJob`, the same the page uses.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type JobSpec,
  loadManifestJob,
  type ManifestEnv,
  type ManifestStage,
  manifestFormatOf,
  manifestProblemsText,
  type Policy,
  resolvePolicy,
} from '@peergrid/shared';
import { describeOnnxModel } from '../inputs/model-inputs.ts';
import { nodeSha256 } from '../transport/node-peer-pool.ts';

/** A manifest (or pipeline) file's text, or an Error naming the file. */
export async function readManifestText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(
      `${path}: cannot read the manifest (${(e as NodeJS.ErrnoException).code ?? e})`,
    );
  }
}

/** The files a manifest names, through node:fs, relative to the manifest file's folder. */
export function nodeManifestFiles(manifestPath: string): ManifestEnv {
  const base = dirname(resolve(manifestPath));
  return {
    read: async (p) => {
      try {
        return new Uint8Array(await readFile(isAbsolute(p) ? p : resolve(base, p)));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR') return null;
        throw e;
      }
    },
    describeModel: describeOnnxModel,
    sha256: nodeSha256,
  };
}

/** A manifest's job, or an Error for the user listing every problem. */
export async function loadManifestFile(
  path: string,
  /** Policy fields given on the command line: they override the manifest's. */
  policy: Partial<Policy> = {},
): Promise<{ spec: JobSpec; stages: readonly ManifestStage[] }> {
  const text = await readManifestText(path);
  const r = await loadManifestJob(text, nodeManifestFiles(path), manifestFormatOf(path));
  if (!r.ok) throw new Error(`${path} is refused:\n${manifestProblemsText(r.problems)}`);
  const merged = { ...r.spec.policy, ...policy };
  // A quorum from the manifest over fewer replicas given here follows them down, as --replicas does.
  if (policy.replicas !== undefined && policy.quorum === undefined) {
    merged.quorum = Math.min(resolvePolicy(merged).quorum, policy.replicas);
  }
  return {
    spec: { ...r.spec, ...(Object.keys(merged).length > 0 ? { policy: merged } : {}) },
    stages: r.stages,
  };
}
