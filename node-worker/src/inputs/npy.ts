/** NumPy .npy read/write now lives in `@peergrid/shared`; re-exported so existing imports keep working. */
export { decodeNpy, encodeNpy, type NpyResult, parseNpy } from '@peergrid/shared';
