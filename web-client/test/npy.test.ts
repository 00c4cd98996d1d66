import { tensorFrom, tensorValues } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../src/lib/npy.ts';

function npyBytes(header: string, data: Uint8Array): Uint8Array {
  const pad = 64 - ((10 + header.length + 1) % 64);
  const h = `${header}${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
  out.set(data, 10 + h.length);
  return out;
}

describe('npy', () => {
  it('parses a file written the way numpy writes it', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2, 3, 4, 5, 6]).buffer);
    const r = parseNpy(
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
      const r = parseNpy(bytes);
      expect(r).toEqual({ ok: true, tensor: { dtype: t.dtype, dims: t.dims, data: t.data } });
    }
  });
  it('says why a file cannot be used', () => {
    expect(parseNpy(new Uint8Array([1, 2, 3]))).toEqual({
      ok: false,
      error: 'not a .npy file (bad magic)',
    });
    const be = parseNpy(
      npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)),
    );
    expect(be.ok ? '' : be.error).toMatch(/unsupported .npy dtype >f4/);
    const fortran = parseNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(4)),
    );
    expect(fortran.ok ? '' : fortran.error).toMatch(/Fortran/);
    const short = parseNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(8)),
    );
    expect(short.ok ? '' : short.error).toMatch(/shape needs 12/);
  });
});
