import type { TaskSpec } from '@peergrid/shared';
import type { ModelInfo } from '../exec/worker-protocol.ts';
import type { JobDraft } from '../state/runtime.ts';
import {
  feedsPerFile,
  fileKind,
  imageTarget,
  type ParsedInput,
  parseInputFile,
} from './custom-job.ts';
import { decodeImage } from './decode-image.ts';
import { fitSize, rgbaToTensor } from './image-tensor.ts';
import { sha256Hex } from './sha256.ts';

/**
 * A job from an uploaded model and input files (one task per file): the model
 * is loaded in a worker first (`inspect`), so a broken model or inputs that do
 * not fit are refused with a message before anything is stored.
 */
export async function customDraft(
  inspect: (model: Uint8Array) => Promise<ModelInfo>,
  model: File,
  inputs: readonly File[],
  policy: JobDraft['spec']['policy'],
): Promise<JobDraft> {
  const bytes = new Uint8Array(await model.arrayBuffer());
  const info = await inspect(bytes);
  const first = info.inputs[0];
  const parsed: ParsedInput[] = [];
  for (const f of inputs) {
    if (fileKind(f.name) === 'image') {
      const target = imageTarget(info.inputs.length === 1 ? first : undefined);
      if (!target || !first)
        throw new Error(`${f.name}: images need a model whose one input is float32 [1, C, H, W].`);
      const img = await decodeImage(f, (w, h) => ({
        width: target.width ?? fitSize(w, h, 640).width,
        height: target.height ?? fitSize(w, h, 640).height,
      }));
      parsed.push({
        file: f.name,
        tensor: rgbaToTensor(img.rgba, img.width, img.height, { channels: target.channels }),
      });
    } else {
      const r = parseInputFile(
        f.name,
        new Uint8Array(await f.arrayBuffer()),
        first?.name ?? 'input',
      );
      if (!r.ok) throw new Error(r.error);
      parsed.push(r.value);
    }
  }
  const feeds = feedsPerFile(info.inputs, parsed);
  if (!feeds.ok) throw new Error(feeds.error);
  const hash = await sha256Hex(bytes);
  const tasks: TaskSpec[] = feeds.value.map((fm, i) => ({
    id: `task-${String(i).padStart(3, '0')}`,
    model: hash,
    feeds: Object.fromEntries(Object.entries(fm).map(([k, t]) => [k, { tensor: t }])),
  }));
  const name = `${model.name.replace(/\.onnx$/i, '')} · ${tasks.length} input${tasks.length === 1 ? '' : 's'}`;
  return { name, kind: 'custom', spec: { name, models: { [hash]: bytes }, tasks, policy } };
}
