/**
 * In-memory stand-ins for tests and the simulator: a signaling hub whose
 * channels deliver asynchronously, and a connected pair of simple-peer-like
 * objects. No timers: delivery is on the microtask queue.
 */
import type { PeerId, SignalChannel } from '../contracts.ts';
import type { SimplePeerLike } from './simple-peer-like.ts';

export interface MemorySignalHub {
  channel(id: PeerId): SignalChannel;
  /** Signals delivered so far. */
  readonly delivered: number;
}

export function createMemorySignalHub(): MemorySignalHub {
  const handlers = new Map<PeerId, Set<(from: PeerId, data: unknown) => void>>();
  let delivered = 0;
  return {
    channel(selfId) {
      return {
        selfId,
        sendSignal(to, data) {
          // A JSON round trip, as over the real signaling socket.
          const copy: unknown = JSON.parse(JSON.stringify(data));
          void Promise.resolve().then(() => {
            for (const h of handlers.get(to) ?? []) {
              delivered++;
              h(selfId, copy);
            }
          });
        },
        onSignal(handler) {
          let set = handlers.get(selfId);
          if (!set) {
            set = new Set();
            handlers.set(selfId, set);
          }
          set.add(handler);
          return () => set.delete(handler);
        },
      };
    },
    get delivered() {
      return delivered;
    },
  };
}

type Listener = (...args: never[]) => void;

class MemoryPeer implements SimplePeerLike {
  other: MemoryPeer | undefined;
  destroyed = false;
  readonly _channel = null;
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, fn: Listener): this {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (...a: unknown[]) => void)(...args);
  }
  send(data: Uint8Array): void {
    if (this.destroyed) throw new Error('peer destroyed');
    const copy = data.slice();
    const other = this.other;
    void Promise.resolve().then(() => {
      if (other && !other.destroyed) other.emit('data', copy);
    });
  }
  signal(): void {}
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const other = this.other;
    void Promise.resolve().then(() => {
      this.emit('close');
      other?.destroy();
    });
  }
}

/** Two connected in-memory peers: what one sends the other receives. */
export function createMemoryPeerPair(): [SimplePeerLike, SimplePeerLike] {
  const a = new MemoryPeer();
  const b = new MemoryPeer();
  a.other = b;
  b.other = a;
  return [a, b];
}
