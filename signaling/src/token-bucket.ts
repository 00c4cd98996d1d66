/** A token bucket: `capacity` tokens, refilled at `perSecond`. */
export interface TokenBucket {
  /** Takes one token; false when empty. */
  take(nowMs: number): boolean;
}

export function createTokenBucket(perSecond: number, capacity: number, nowMs: number): TokenBucket {
  let tokens = capacity;
  let last = nowMs;
  return {
    take(now) {
      tokens = Math.min(capacity, tokens + ((now - last) / 1000) * perSecond);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
