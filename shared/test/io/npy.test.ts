import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, parseNpy } from '../../src/io/npy.ts';
import { DTYPES, type DType, tensorFrom, tensorValues } from '../../src/tensor.ts';

/** Header text of a .npy built by hand; ASCII, so one byte per character. */
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
function text(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function npyBytes(header: string, data: Uint8Array): Uint8Array {
  const pad = 64 - ((10 + header.length + 1) % 64);
  const h = `${header}${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(ascii(h), 10);
  out.set(data, 10 + h.length);
  return out;
}

function sample(dtype: DType): ArrayBufferView {
  const v = [0, 1, 2, 3, 4, 5];
  switch (dtype) {
    case 'float32':
      return Float32Array.from(v, (x) => x / 3);
    case 'float64':
      return Float64Array.from(v, (x) => -x / 7);
    case 'int32':
      return Int32Array.from(v, (x) => x * -100_000);
    case 'int64':
      return BigInt64Array.from(v, (x) => BigInt(x) * 10_000_000_000n);
    case 'int8':
      return Int8Array.from(v, (x) => -x);
    case 'uint8':
      return Uint8Array.from(v, (x) => x * 40);
    case 'bool':
      return Uint8Array.from(v, (x) => x % 2);
  }
}

describe('parseNpy', () => {
  it.each(DTYPES)('round-trips %s', (dtype) => {
    const t = tensorFrom(dtype, [2, 3], sample(dtype));
    const back = parseNpy(encodeNpy(t));
    expect(back).toEqual(t);
  });

  it('writes a header numpy understands and refuses what it cannot read', () => {
    const bytes = encodeNpy(tensorFrom('float32', [4], new Float32Array(4)));
    const header = text(bytes.subarray(10, 10 + (bytes[8] ?? 0)));
    expect(header).toContain("'descr': '<f4'");
    expect(header).toContain("'shape': (4,)");
    expect((10 + header.length) % 64).toBe(0);
    expect(parseNpy(new Uint8Array([1, 2, 3]))).toBeNull();
    const fortran = ascii(text(bytes).replace("'fortran_order': False", "'fortran_order': True "));
    expect(parseNpy(fortran)).toBeNull();
    expect(parseNpy(bytes.subarray(0, bytes.length - 1))).toBeNull();
  });
});

describe('decodeNpy', () => {
  it('parses a file written the way numpy writes it', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2, 3, 4, 5, 6]).buffer);
    const r = decodeNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.tensor.dtype).toBe('float32');
    expect(r.tensor.dims).toEqual([2, 3]);
    expect(Array.from(tensorValues(r.tensor) as Float32Array)).toEqual([1.5, -2, 3, 4, 5, 6]);
  });

  it('round-trips every dtype through encodeNpy', () => {
    const cases = [
      tensorFrom('int64', [3], new BigInt64Array([1n, -2n, 3n])),
      tensorFrom('uint8', [2, 2], new Uint8Array([1, 2, 3, 255])),
      tensorFrom('float64', [1], new Float64Array([Math.PI])),
      tensorFrom('int32', [], new Int32Array([7])),
      tensorFrom('bool', [2], new Uint8Array([1, 0])),
    ];
    for (const t of cases) {
      const bytes = encodeNpy(t);
      const headerEnd = 10 + (bytes[8]! | (bytes[9]! << 8));
      expect(headerEnd % 64).toBe(0);
      const r = decodeNpy(bytes);
      expect(r).toEqual({ ok: true, tensor: { dtype: t.dtype, dims: t.dims, data: t.data } });
    }
  });

  it('says why a file cannot be used', () => {
    expect(decodeNpy(new Uint8Array([1, 2, 3]))).toEqual({
      ok: false,
      error: 'not a .npy file (bad magic)',
    });
    const be = decodeNpy(
      npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)),
    );
    expect(be.ok ? '' : be.error).toMatch(/unsupported .npy dtype >f4/);
    const fortran = decodeNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(4)),
    );
    expect(fortran.ok ? '' : fortran.error).toMatch(/Fortran/);
    const short = decodeNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(8)),
    );
    expect(short.ok ? '' : short.error).toMatch(/shape needs 12/);
  });

  it('refuses unknown format versions and reads only the data the shape needs', () => {
    const bytes = npyBytes(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
      ascii('abcdEXTRA'),
    );
    const v4 = bytes.slice();
    v4[6] = 4;
    expect(decodeNpy(v4)).toEqual({ ok: false, error: 'unsupported .npy version 4' });
    const r = decodeNpy(bytes);
    expect(r.ok && Array.from(r.tensor.data)).toEqual(Array.from(ascii('abcd')));
  });
});
