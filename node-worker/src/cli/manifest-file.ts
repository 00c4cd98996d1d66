/**
 * `peergrid run job.json` (or job.yaml / job.yml): a manifest file read with node:fs. Its paths are
 * relative to the manifest's folder (absolute paths are taken as they are);
 * models are described from their ModelProto (onnx-proto). The manifest's
 * rules and checks are shared's `loadManifestJob`, the same the page uses.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type JobSpec,
  loadManifestJob,
  type ManifestStage,
  manifestFormatOf,
  manifestProblemsText,
  type Policy,
  resolvePolicy,
} from '@peergrid/shared';
import { describeOnnxModel } from '../inputs/model-inputs.ts';

/** A manifest's job, or an Error for the user listing every problem. */
export async function loadManifestFile(
  path: string,
  /** Policy fields given on the command line: they override the manifest's. */
  policy: Partial<Policy> = {},
): Promise<{ spec: JobSpec; stages: readonly ManifestStage[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(
      `${path}: cannot read the manifest (${(e as NodeJS.ErrnoException).code ?? e})`,
    );
  }
  const base = dirname(resolve(path));
  const r = await loadManifestJob(
    text,
    {
      read: async (p) => {
        try {
          return new Uint8Array(await readFile(isAbsolute(p) ? p : resolve(base, p)));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
          throw e;
        }
      },
      describeModel: describeOnnxModel,
      sha256: async (bytes) => createHash('sha256').update(bytes).digest('hex'),
    },
    manifestFormatOf(path),
  );
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
