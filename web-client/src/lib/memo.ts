/**
 * `fn` remembered per argument object (a WeakMap: nothing is kept alive).
 * For the job views, which re-render several times a second with the same
 * tensors: each tensor is decoded, drawn or encoded once, not at every render.
 */
export function memoByObject<K extends object, V>(fn: (key: K) => V): (key: K) => V {
  const seen = new WeakMap<K, V>();
  return (key) => {
    if (seen.has(key)) return seen.get(key) as V;
    const v = fn(key);
    seen.set(key, v);
    return v;
  };
}
