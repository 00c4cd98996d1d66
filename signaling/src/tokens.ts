/**
 * Join tokens: `base64url(JSON {g: grid, e: expiry unix s}) + "." + base64url(HMAC-SHA256)`.
 * Minted by operators (`peergrid-signaling --mint-token GRID`) and checked at join.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function createJoinToken(
  secret: string,
  grid: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): string {
  const body = Buffer.from(
    JSON.stringify({ g: grid, e: Math.floor(nowMs / 1000) + ttlSeconds }),
  ).toString('base64url');
  return `${body}.${mac(secret, body)}`;
}

export type TokenCheck = 'ok' | 'bad-token' | 'token-expired';

export function verifyJoinToken(
  secret: string,
  token: string | undefined,
  grid: string,
  nowMs = Date.now(),
): TokenCheck {
  if (!token) return 'bad-token';
  const dot = token.indexOf('.');
  if (dot < 1) return 'bad-token';
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const want = Buffer.from(mac(secret, body), 'base64url');
  if (given.length !== want.length || !timingSafeEqual(given, want)) return 'bad-token';
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return 'bad-token';
  }
  const { g, e } = (claims ?? {}) as { g?: unknown; e?: unknown };
  if (g !== grid || typeof e !== 'number') return 'bad-token';
  return e * 1000 > nowMs ? 'ok' : 'token-expired';
}

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}
