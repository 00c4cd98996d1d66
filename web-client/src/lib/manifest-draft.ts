/**
 * A job from a manifest (JSON, or YAML: job.yaml / job.yml) and its files, as the Submit view takes them: the
 * same loader as `peergrid run job.json` (shared's `loadManifestJob`), with
 * the uploaded files as the file system and each model described by a
 * worker's ONNX Runtime session. A path in the manifest names an uploaded
 * file by its path inside a chosen folder or by its file name.
 */
import {
  type DeclaredInput,
  loadManifestJob,
  type ManifestProblem,
  type ModelDescription,
  manifestFormatOf,
  manifestProblemsText,
} from '@peergrid/shared';
import type { ModelInfo } from '../exec/worker-protocol.ts';
import type { JobDraft } from '../state/runtime.ts';
import { UPLOAD_LIMITS } from './custom-job.ts';
import { declaredInput } from './feed-check.ts';
import { formatBytes } from './format.ts';
import { sha256Hex } from './sha256.ts';

/** Limits of a manifest job in the page. */
export const MANIFEST_LIMITS = {
  /** Largest manifest file, bytes. Default 1 MiB. */
  maxManifestBytes: 1024 * 1024,
  /** Most bytes of all files a manifest job reads. Default 512 MiB. */
  maxTotalBytes: 512 * 1024 * 1024,
} as const;

/** An uploaded file as the loader needs it (a `File` is one). */
export interface UploadedFile {
  readonly name: string;
  /** Path inside a chosen folder (`<input webkitdirectory>`), when there is one. */
  readonly webkitRelativePath?: string;
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Refused manifests carry their problems (stable codes) with the message. */
export class ManifestRefused extends Error {
  readonly problems: readonly ManifestProblem[];
  constructor(name: string, problems: readonly ManifestProblem[]) {
    super(`${name} is refused:\n${manifestProblemsText(problems)}`);
    this.name = 'ManifestRefused';
    this.problems = problems;
  }
}

/** The uploaded file a manifest path names, or null: by relative path (folder dropped), then by name. */
export function findUpload<F extends UploadedFile>(files: readonly F[], path: string): F | null {
  const clean = path.replace(/^\.\//, '');
  const rel = (f: F) => f.webkitRelativePath?.split('/').slice(1).join('/');
  const byPath = files.find((f) => rel(f) === clean || f.webkitRelativePath === clean);
  if (byPath) return byPath;
  const base = clean.split('/').pop() ?? clean;
  const named = files.filter((f) => f.name === base);
  return named.length === 1 ? (named[0] ?? null) : null;
}

/** ORT's description of a model in the shared form (outputs without metadata have an unknown type). */
export function modelDescription(info: ModelInfo): ModelDescription {
  const outputs: DeclaredInput[] = info.outputSpecs
    ? info.outputSpecs.map(declaredInput)
    : info.outputs.map((name) => ({ name, dtype: '', shape: null }));
  return { inputs: info.inputs.map(declaredInput), outputs };
}

/**
 * Reads the manifest and its files, checks everything the loader checks
 * (every problem listed) and returns the job to submit. Throws a
 * `ManifestRefused` (or an Error for a file too large) with a message for the user.
 */
export async function manifestDraft(
  inspect: (model: Uint8Array) => Promise<ModelInfo>,
  manifest: UploadedFile,
  files: readonly UploadedFile[],
): Promise<JobDraft> {
  if (manifest.size > MANIFEST_LIMITS.maxManifestBytes) {
    throw new Error(
      `${manifest.name} is over ${MANIFEST_LIMITS.maxManifestBytes} bytes: is it a manifest?`,
    );
  }
  const text = new TextDecoder().decode(await manifest.arrayBuffer());
  let total = 0;
  const result = await loadManifestJob(
    text,
    {
      read: async (path) => {
        const f = findUpload(files, path);
        if (!f) return null;
        if (/\.onnx$/i.test(f.name) && f.size > UPLOAD_LIMITS.maxModelBytes) {
          throw new Error(
            `${f.name} (${formatBytes(f.size)}) is over the ${formatBytes(UPLOAD_LIMITS.maxModelBytes)} limit for models.`,
          );
        }
        total += f.size;
        if (total > MANIFEST_LIMITS.maxTotalBytes) {
          throw new Error(
            `the manifest's files are over ${MANIFEST_LIMITS.maxTotalBytes} bytes in all`,
          );
        }
        return new Uint8Array(await f.arrayBuffer());
      },
      describeModel: async (bytes) => modelDescription(await inspect(bytes)),
      sha256: sha256Hex,
    },
    manifestFormatOf(manifest.name),
  );
  if (!result.ok) throw new ManifestRefused(manifest.name, result.problems);
  const tasks = result.stages.reduce((n, s) => n + s.count, 0);
  const name = `${result.spec.name ?? manifest.name.replace(/\.(json|ya?ml)$/i, '')} · ${tasks} task${tasks === 1 ? '' : 's'}`;
  return { name, kind: 'manifest', spec: { ...result.spec, name } };
}
