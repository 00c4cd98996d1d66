/** ICE servers handed out at join, with TURN REST credentials (draft-uberti-behave-turn-rest). */
import { createHmac } from 'node:crypto';
import { type IceServer, parseIceServer } from '@peergrid/shared';

/**
 * `turn:`/`turns:` entries get `username = "<expiry unix s>:<peerId>"` and
 * `credential = base64(HMAC-SHA1(secret, username))`, which coturn checks with
 * `use-auth-secret` + `static-auth-secret`.
 */
export function iceServersFor(
  servers: readonly IceServer[],
  peerId: string,
  turnSecret: string | undefined,
  ttlSeconds: number,
  nowMs = Date.now(),
): IceServer[] {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${peerId}`;
  return servers.map((s) => {
    const isTurn = s.urls.some((u) => u.startsWith('turn'));
    if (!turnSecret || !isTurn) return s;
    const credential = createHmac('sha1', turnSecret).update(username).digest('base64');
    return { urls: s.urls, username, credential };
  });
}

/** `--ice-servers`: a JSON array of RTCIceServer, or comma-separated URLs (one server each). */
export function parseIceServersArg(text: string): IceServer[] | null {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let raw: unknown;
  if (trimmed.startsWith('[')) {
    try {
      raw = JSON.parse(trimmed);
    } catch {
      return null;
    }
  } else {
    raw = trimmed.split(',').map((u) => ({ urls: [u.trim()] }));
  }
  if (!Array.isArray(raw)) return null;
  const out: IceServer[] = [];
  for (const r of raw) {
    const s = parseIceServer(r);
    if (!s) return null;
    out.push(s);
  }
  return out;
}
