/** Positions for the mesh drawing: this tab in the middle, the other peers on rings around it. */
export interface Placed<T> {
  readonly item: T;
  readonly x: number;
  readonly y: number;
}

/** Peers per ring before a wider ring starts. Default 12. */
export const RING_CAPACITY = 12;

export function meshLayout<T extends { readonly self: boolean; readonly id: string }>(
  peers: readonly T[],
  width: number,
  height: number,
): Placed<T>[] {
  const cx = width / 2;
  const cy = height / 2;
  const self = peers.find((p) => p.self);
  const others = peers.filter((p) => !p.self).sort((a, b) => a.id.localeCompare(b.id));
  const out: Placed<T>[] = self ? [{ item: self, x: cx, y: cy }] : [];
  const rings = Math.max(1, Math.ceil(others.length / RING_CAPACITY));
  const maxR = Math.min(width, height) / 2 - 36;
  others.forEach((p, i) => {
    const ring = Math.floor(i / RING_CAPACITY);
    const inRing = Math.min(RING_CAPACITY, others.length - ring * RING_CAPACITY);
    const r = maxR * ((ring + 1) / rings);
    const a = -Math.PI / 2 + ((i % RING_CAPACITY) / inRing) * 2 * Math.PI + ring * 0.26;
    out.push({ item: p, x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) });
  });
  return out;
}
