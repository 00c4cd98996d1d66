/**
 * Where one task's output goes in a results archive or folder, the same in
 * the CLI's `--out results.npz`, its `--out DIR/` and the page's .npz
 * download: `TASK/OUTPUT.npy`, so `np.load("results.npz")["TASK/OUTPUT"]`.
 * A name keeps letters, digits and `_ . -`; any other character is written
 * as `%XX` (its UTF-8 bytes), so every name is one safe path component.
 */
import { utf8 } from '../job/utf8.ts';

const SAFE = /^[A-Za-z0-9_.-]$/;

/** One path component for a task id or an output name. */
export function resultNamePart(name: string): string {
  let out = '';
  for (const ch of name) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of utf8(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // '', '.' and '..' are not names a folder may hold.
  if (out === '' || /^\.+$/.test(out)) out = out.replaceAll('.', '%2E') || '%';
  return out;
}

/** `TASK/OUTPUT.npy` (without the .npy in the key `np.load` gives). */
export function resultEntryName(taskId: string, output: string): string {
  return `${resultNamePart(taskId)}/${resultNamePart(output)}.npy`;
}
