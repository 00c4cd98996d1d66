/**
 * Feeds by reference: a tensor a job shares between its tasks (a constant, a
 * group's shared feed: a `{blob}` feed of the spec) travels once per donor,
 * as a blob of its canonical bytes fetched by hash through the blob exchange
 * as models are, instead of inside every lease. A lease names it in
 * `AssignMessage.feedRefs` (protocol 3); the donor's blob cache keeps it for
 * the job's later leases. Small tensors stay inline: a fetch costs a round
 * trip.
 */
import { byteLength, DTYPES, type DType, type Tensor } from '../tensor.ts';

/** A feed given by the hash of its canonical bytes (`canonicalBytes`). */
export interface FeedRef {
  /** SHA-256 hex of the tensor's canonical bytes. */
  readonly hash: string;
  /** Length of those bytes. */
  readonly bytes: number;
}

/** Shared feeds of at least this many data bytes travel by reference. */
export const FEED_REF_MIN_BYTES = 4096;

/** The peer protocol version that understands `feedRefs`. */
export const FEED_REFS_PROTOCOL = 3;

const BAR = 0x7c; // '|'
/** The header is ASCII (and at most 1 KiB). */
const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

/**
 * A tensor from its canonical bytes (`dtype|d0,d1,…|` then the raw data), or
 * a string saying why the bytes are not one.
 */
export function tensorFromCanonical(bytes: Uint8Array): Tensor | string {
  const first = bytes.indexOf(BAR);
  const second = first < 0 ? -1 : bytes.indexOf(BAR, first + 1);
  if (first < 0 || second < 0 || second > 1024) return 'no tensor header';
  const dtype = ascii(bytes.subarray(0, first));
  if (!(DTYPES as readonly string[]).includes(dtype)) return `unknown dtype '${dtype}'`;
  const dimsText = ascii(bytes.subarray(first + 1, second));
  const dims = dimsText === '' ? [] : dimsText.split(',').map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) return `bad dims '${dimsText}'`;
  const want = byteLength(dtype as DType, dims);
  if (bytes.byteLength - second - 1 !== want) {
    return `${dtype}[${dims.join('x')}] needs ${want} bytes, got ${bytes.byteLength - second - 1}`;
  }
  // A copy: the tensor owns its bytes, aligned, apart from the cached blob's.
  return { dtype: dtype as DType, dims, data: bytes.slice(second + 1) };
}
