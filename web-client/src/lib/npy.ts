/**
 * NumPy .npy read/write now lives in `@peergrid/shared`. Here `parseNpy` keeps
 * this module's result-with-reason shape (shared's `decodeNpy`), so importers are unchanged.
 */
export { decodeNpy as parseNpy, encodeNpy, type NpyResult } from '@peergrid/shared';
