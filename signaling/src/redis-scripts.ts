/**
 * Lua scripts of the Redis bus. Each runs atomically on the Redis server, so
 * limits and ownership checks hold across every signaling instance.
 *
 * Keys (prefix P, default `peergrid:`):
 * - `P grid:<grid>`  hash peerId → `<tag> <PeerInfo JSON>`; `tag` is `<instance>.<n>`,
 *   unique per join, so a late leave of a replaced socket deletes nothing;
 * - `P peers:<instance>` set of `<grid> <peerId>` an instance announced (for cleanup);
 * - `P alive:<instance>` heartbeat key with a TTL;
 * - `P instances` set of instance ids that may hold peers.
 */

import type { Redis } from 'ioredis';

/**
 * KEYS: grid hash, peers set. ARGV: id, entry, peersPerGrid, member.
 * Returns `{0}` when the grid is full, else `{1, oldEntry or '', flat HGETALL before}`.
 */
export const JOIN_SCRIPT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return {0} end
local all = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
return {1, old or '', all}
`;

/** KEYS: grid hash, peers set. ARGV: id, tag, member. Removes the entry only if it still has `tag`; 1 when removed. */
export const LEAVE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or string.sub(cur, 1, #ARGV[2] + 1) ~= ARGV[2] .. ' ' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[3])
return 1
`;

/** KEYS: grid hash. ARGV: id, tag, entry. Overwrites the entry only if it still has `tag`. */
export const UPDATE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or string.sub(cur, 1, #ARGV[2] + 1) ~= ARGV[2] .. ' ' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

/**
 * KEYS: peers set of the dead instance, its alive key, the instances set.
 * ARGV: instance id, grid key prefix. Does nothing while the alive key exists;
 * otherwise removes every entry still owned by the instance and returns their
 * `<grid> <peerId>` members. Atomic: exactly one survivor gets the list.
 */
export const CLEANUP_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {} end
local out = {}
local owner = ARGV[1] .. '.'
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local sp = string.find(m, ' ', 1, true)
  if sp then
    local key = ARGV[2] .. string.sub(m, 1, sp - 1)
    local id = string.sub(m, sp + 1)
    local cur = redis.call('HGET', key, id)
    if cur and string.sub(cur, 1, #owner) == owner then
      redis.call('HDEL', key, id)
      table.insert(out, m)
    end
  end
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return out
`;

/**
 * Removes the peers of `instance` if its heartbeat key is gone; returns them
 * as `[grid, peerId]` (empty when it is alive or another survivor was first).
 */
export async function cleanupInstance(
  client: Redis,
  prefix: string,
  instance: string,
): Promise<[string, string][]> {
  const gone = (await client.eval(
    CLEANUP_SCRIPT,
    3,
    `${prefix}peers:${instance}`,
    `${prefix}alive:${instance}`,
    `${prefix}instances`,
    instance,
    `${prefix}grid:`,
  )) as string[];
  return gone.map((m) => {
    const sp = m.indexOf(' ');
    return [m.slice(0, sp), m.slice(sp + 1)];
  });
}
