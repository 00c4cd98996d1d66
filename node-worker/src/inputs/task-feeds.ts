/**
 * Each task's feeds from the files `peergrid run` is given, in three forms:
 * `--inputs PATH` (a file split into `--batch` rows per task, or a folder of
 * files or images, one task each), and repeated `--input NAME=PATH` (folders
 * matched by file stem across names, or tensor files split by rows
 * together). A file may hold one tensor, named by `bareName`, or tensors by
 * name (.npz, JSON objects).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { type NamedFeeds, splitRows, type Tensor } from '@peergrid/shared';
import { IMAGE_EXTENSIONS, loadImageFolder } from './images.ts';
import {
  INPUT_FILE_EXTENSIONS,
  type InputFile,
  loadInputFile,
  loadTensorFile,
  TENSOR_FILE_EXTENSIONS,
} from './load-tensor.ts';

/** One `--input NAME=PATH`. */
export interface NamedInputFlag {
  readonly name: string;
  readonly path: string;
}

export interface InputsOptions {
  /** Rows per task when splitting tensor files. Default: the whole tensors in one task. */
  readonly batch?: number;
  /** The input a file's single tensor (.npy, a bare JSON tensor, an image) feeds; none: such files are refused. */
  readonly bareName?: string;
}

const hasExt = (exts: readonly string[]) => (f: string) => exts.includes(extname(f).toLowerCase());

function feedsOf(
  file: InputFile,
  path: string,
  bareName: string | undefined,
): Record<string, Tensor> {
  if (file.kind === 'named') return { ...file.tensors };
  if (bareName === undefined) {
    throw new Error(
      `${path}: holds one unnamed tensor, and the model has no input to feed it to; name one with --input-name`,
    );
  }
  return { [bareName]: file.tensor };
}

/** `--inputs PATH`: tasks from one file (split by rows) or a folder (one task per file). */
export async function loadInputsPath(path: string, o: InputsOptions = {}): Promise<NamedFeeds[]> {
  if (!(await stat(path)).isDirectory()) {
    const split = splitRows(feedsOf(await loadInputFile(path), path, o.bareName), o.batch);
    if (!split.ok) throw new Error(`${path}: ${split.error}`);
    return split.tasks;
  }
  if (o.batch !== undefined) {
    throw new Error(`${path}: --batch splits a tensor file; a folder gives one task per file`);
  }
  const files = (await readdir(path)).sort();
  const tasks: NamedFeeds[] = [];
  if (files.some(hasExt(IMAGE_EXTENSIONS))) {
    if (o.bareName === undefined) throw new Error(`${path}: images need a model input to feed`);
    for (const img of await loadImageFolder(path)) {
      tasks.push({ id: img.name, feeds: { [o.bareName]: img.input.tensor } });
    }
  } else {
    for (const f of files.filter(hasExt(INPUT_FILE_EXTENSIONS))) {
      const file = join(path, f);
      tasks.push({ id: f, feeds: feedsOf(await loadInputFile(file), file, o.bareName) });
    }
  }
  if (tasks.length === 0) throw new Error(`${path}: no .npy, .npz, .json, .png or .jpg files`);
  return tasks;
}

/** Repeated `--input NAME=PATH`: all folders (matched by file stem) or all tensor files (split by rows together). */
export async function loadNamedInputs(
  flags: readonly NamedInputFlag[],
  o: Pick<InputsOptions, 'batch'> = {},
): Promise<NamedFeeds[]> {
  const dirs = await Promise.all(flags.map(async (f) => (await stat(f.path)).isDirectory()));
  if (dirs.every((d) => !d)) {
    const feeds: Record<string, Tensor> = {};
    for (const f of flags) feeds[f.name] = await loadTensorFile(f.path);
    const split = splitRows(feeds, o.batch);
    if (!split.ok) throw new Error(`--input: ${split.error}`);
    return split.tasks;
  }
  if (!dirs.every((d) => d)) {
    const files = flags.filter((_, i) => !dirs[i]).map((f) => f.name);
    throw new Error(
      `--input: give every name a folder (one file per task) or every name a tensor file (split by rows); ${files.join(', ')} ${files.length === 1 ? 'is a file' : 'are files'} (a tensor every task shares is a --const NAME=@FILE)`,
    );
  }
  if (o.batch !== undefined) {
    throw new Error('--input: --batch splits tensor files; folders give one task per file stem');
  }
  return matchFolders(flags);
}

/** One task per file stem; every name's folder must have a file of every stem. */
async function matchFolders(flags: readonly NamedInputFlag[]): Promise<NamedFeeds[]> {
  const byName = new Map<string, Map<string, string>>();
  const problems: string[] = [];
  for (const f of flags) {
    const stems = new Map<string, string>();
    for (const file of (await readdir(f.path)).filter(hasExt(TENSOR_FILE_EXTENSIONS)).sort()) {
      const stem = basename(file, extname(file));
      const had = stems.get(stem);
      if (had) problems.push(`${f.path}: ${had} and ${file} both give stem "${stem}"`);
      else stems.set(stem, file);
    }
    if (stems.size === 0) problems.push(`${f.path} (--input ${f.name}): no .npy or .json files`);
    byName.set(f.name, stems);
  }
  const all = [...new Set([...byName.values()].flatMap((m) => [...m.keys()]))].sort();
  for (const stem of all) {
    const missing = flags.filter((f) => !byName.get(f.name)?.has(stem));
    for (const f of missing) problems.push(`"${stem}" has no file for ${f.name} in ${f.path}`);
  }
  if (problems.length > 0)
    throw new Error(`--input folders do not match:\n  ${problems.join('\n  ')}`);
  const tasks: NamedFeeds[] = [];
  for (const stem of all) {
    const feeds: Record<string, Tensor> = {};
    for (const f of flags)
      feeds[f.name] = await loadTensorFile(join(f.path, byName.get(f.name)!.get(stem)!));
    tasks.push({ id: stem, feeds });
  }
  return tasks;
}
