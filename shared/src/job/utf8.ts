/**
 * UTF-8 encoding. Both runtimes have `TextEncoder`, but it is not in the pure
 * ES lib that `shared/` compiles against: it is looked up at run time, with a
 * plain loop where it is missing (it hashes every task of a job for its id,
 * so the loop cost ~20 µs a task).
 */
interface Utf8Encoder {
  encode(s: string): Uint8Array;
}
const Encoder = (globalThis as { TextEncoder?: new () => Utf8Encoder }).TextEncoder;
const native: Utf8Encoder | undefined = Encoder ? new Encoder() : undefined;

export function utf8(s: string): Uint8Array {
  return native ? native.encode(s) : utf8Loop(s);
}

/** The same bytes without `TextEncoder`. */
export function utf8Loop(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    let c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate, as TextEncoder writes it
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}
