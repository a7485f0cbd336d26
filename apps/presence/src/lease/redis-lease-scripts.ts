/**
 * The Lua scripts behind RedisLeaseStore. Each runs atomically on the Redis
 * server (no other command interleaves), which is what makes a grant, a
 * renewal, a revoke or a reap one step for every presence replica at once.
 * Layout and reasoning: docs/decisions/0006-redis-lease-store.md.
 *
 * A lease is a hash with these fields (all strings, as Redis stores them):
 *   gw   gateway ID holding the socket
 *   tok  fencing token (decimal)
 *   ttl  TTL in seconds
 *   exp  expiry, Unix ms, from the caller's clock
 *   reg  grant time, Unix ms
 *   rth  SHA-256 of the resume token, 64 lowercase hex characters
 *   rev  "1" once revoked (kept, offline, for RESUME until exp), else "0"
 *   sub  subject of the principal the grant carried ("" when anonymous)
 *   shr  "1" when that peer hosts a share, else "0"
 *   iss, dn, edo  the principal's issuer, display name and email domain
 *   sim  this grant's member in the subject's index ("" when anonymous):
 *        "<peerId>:<nonce>", unique per grant (ADR 0029)
 * Leases written before those fields existed read them as "".
 *
 * Times come from the caller (ARGV "now"), never from the Redis clock, so the
 * memory and Redis stores behave the same under the same clock. The only
 * server-clock uses: the key TTL (a relative safety net, well past exp) and
 * the fencing counter's seed (see REGISTER).
 *
 * Numbers are written with string.format('%d'): Lua's tostring would turn a
 * 16-digit token into "1.7955602703649e+15".
 */

/** Replies of REGISTER and REVOKE start with one of these. */
export const ScriptOutcome = {
  OK: 'OK',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  NOT_FOUND: 'NOT_FOUND',
  RESUME_TOKEN_MISMATCH: 'RESUME_TOKEN_MISMATCH',
  FENCED: 'FENCED',
} as const;

/** Per-lease status codes in the KEEP_ALIVE reply. */
export const KeepAliveCode = { RENEWED: 1, NOT_FOUND: 2, FENCED: 3 } as const;

/**
 * KEYS: lease, fencing counter, expiry index.
 * ARGV: peerId, mode ("new" | "resume"), gatewayId, ttlSeconds, nowMs,
 *       resume token hash (hex), key grace ms, then the principal: subject,
 *       sharing ("1" | "0"), issuer, display name, email domain, index member
 *       (all "" when anonymous).
 * Reply: {"OK", gw, token, ttl, exp, reg, resumed (0|1), predecessor, replaced}
 *        predecessor = {} or {gw, tok, ttl, exp, reg, sub} of an expired, unreaped,
 *        unrevoked lease that this NEW claimed (its LEFT/EXPIRED is ours to tell);
 *        replaced = {} or {sub, sim} of the record this grant overwrote (its
 *        index member is stale now);
 *        or {outcome, message} for a refusal.
 */
export const REGISTER_SCRIPT = `
local peer, mode, gw = ARGV[1], ARGV[2], ARGV[3]
local ttl, now, grace = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
local offered = ARGV[6]
local cur = redis.call('HMGET', KEYS[1], 'gw', 'tok', 'ttl', 'exp', 'reg', 'rth', 'rev', 'sub', 'sim')
local exists = cur[2] ~= false
local predecessor = {}
local replaced = {}
if exists then replaced = {cur[8] or '', cur[9] or ''} end

if exists and tonumber(cur[4]) <= now then
  -- Expired: never revived. NEW claims it (so the reaper never returns it).
  if mode == 'resume' then return {'${ScriptOutcome.NOT_FOUND}', 'the lease has expired'} end
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[3], peer)
  if cur[7] ~= '1' then predecessor = {cur[1], cur[2], cur[3], cur[4], cur[5], cur[8] or ''} end
  exists = false
end

local hash = offered
if mode == 'new' then
  if exists then
    if cur[7] == '1' then
      return {'${ScriptOutcome.ALREADY_EXISTS}', 'the ID is reserved for resume until its lease expires'}
    end
    return {'${ScriptOutcome.ALREADY_EXISTS}', 'the ID already holds a live lease'}
  end
else
  if not exists then
    return {'${ScriptOutcome.NOT_FOUND}', 'no live or revoked lease to resume'}
  end
  -- Constant time in the hash content: every byte is compared, whatever
  -- the first difference, so timing does not leak a matching prefix.
  local stored = cur[6]
  local diff = 0
  if #stored ~= #offered then diff = 1 end
  for i = 1, math.min(#stored, #offered) do
    diff = bit.bor(diff, bit.bxor(string.byte(stored, i), string.byte(offered, i)))
  end
  if diff ~= 0 then
    return {'${ScriptOutcome.RESUME_TOKEN_MISMATCH}', 'the resume token does not match'}
  end
  hash = stored
end

-- One counter for every ID and replica: tokens are never reused. Redis runs
-- without persistence, so after a restart the counter is gone; it is seeded
-- with the server time in microseconds, which is above every token issued
-- before (that would need more than a million grants per second since the
-- previous seed). Redis 7 replicates script effects, so TIME is allowed here.
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], t[1] .. string.format('%06d', tonumber(t[2])))
end
local token = redis.call('INCR', KEYS[2])
local exp = now + ttl * 1000
redis.call('HSET', KEYS[1],
  'gw', gw, 'tok', string.format('%d', token), 'ttl', string.format('%d', ttl),
  'exp', string.format('%d', exp), 'reg', string.format('%d', now),
  'rth', hash, 'rev', '0',
  'sub', ARGV[8], 'shr', ARGV[9], 'iss', ARGV[10], 'dn', ARGV[11], 'edo', ARGV[12], 'sim', ARGV[13])
-- Safety net only: the reaper deletes the key at exp; the grace keeps it
-- there long enough for a reaper to announce it, even across clock skew.
redis.call('PEXPIRE', KEYS[1], ttl * 1000 + grace)
redis.call('ZADD', KEYS[3], string.format('%d', exp), peer)
local resumed = 0
if mode == 'resume' then resumed = 1 end
return {'${ScriptOutcome.OK}', gw, token, ttl, exp, now, resumed, predecessor, replaced}
`;

/**
 * KEYS: expiry index, then one lease key per ref.
 * ARGV: nowMs, gatewayId, key grace ms, then per ref: peerId, fencing token.
 * Reply: per ref, status code and new expiry (0 unless renewed).
 */
export const KEEP_ALIVE_SCRIPT = `
local now, gw, grace = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 2, #KEYS do
  local peer, tok = ARGV[2 + (i - 1) * 2], ARGV[3 + (i - 1) * 2]
  local cur = redis.call('HMGET', KEYS[i], 'gw', 'tok', 'ttl', 'exp', 'rev')
  local code, exp = ${KeepAliveCode.NOT_FOUND}, 0
  if cur[2] == false or tonumber(cur[4]) <= now then
    code = ${KeepAliveCode.NOT_FOUND}
  elseif cur[2] ~= tok or cur[1] ~= gw then
    code = ${KeepAliveCode.FENCED}
  elseif cur[5] == '1' then
    code = ${KeepAliveCode.NOT_FOUND}
  else
    local ttl = tonumber(cur[3])
    exp = now + ttl * 1000
    redis.call('HSET', KEYS[i], 'exp', string.format('%d', exp))
    redis.call('PEXPIRE', KEYS[i], ttl * 1000 + grace)
    redis.call('ZADD', KEYS[1], string.format('%d', exp), peer)
    code = ${KeepAliveCode.RENEWED}
  end
  out[#out + 1] = code
  out[#out + 1] = exp
end
return out
`;

/**
 * KEYS: lease.
 * ARGV: fencing token, nowMs.
 * Reply: {"OK", gw, tok, ttl, exp, reg, sub, sim} or {outcome, message}.
 * The record stays (offline) until its original expiry, for RESUME.
 */
export const REVOKE_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'gw', 'tok', 'ttl', 'exp', 'reg', 'rev', 'sub', 'sim')
if cur[2] == false or tonumber(cur[4]) <= tonumber(ARGV[2]) then
  return {'${ScriptOutcome.NOT_FOUND}', 'no live lease'}
end
if cur[2] ~= ARGV[1] then
  return {'${ScriptOutcome.FENCED}', 'fencing token ' .. ARGV[1] .. ' is stale (current ' .. cur[2] .. ')'}
end
if cur[6] == '1' then return {'${ScriptOutcome.NOT_FOUND}', 'the lease is already revoked'} end
redis.call('HSET', KEYS[1], 'rev', '1')
return {'${ScriptOutcome.OK}', cur[1], cur[2], cur[3], cur[4], cur[5], cur[7] or '', cur[8] or ''}
`;

/**
 * KEYS: expiry index.
 * ARGV: nowMs, limit, lease key prefix, most index entries to examine.
 * Reply: flat list, 8 entries per claimed lease: peer, gw, tok, ttl, exp, reg,
 * sub, sim.
 *
 * Exactly once: an entry is claimed by deleting the lease and its index entry
 * inside this script, so of several replicas racing, only the one whose
 * script removed it returns it. Revoked leases are dropped silently (their
 * LEFT was told at revoke); entries without a lease (key TTL ran out) are
 * dropped; a renewed lease whose score is behind is re-scored. The lease keys
 * are derived from the index (not declared in KEYS): fine on one Redis, and
 * on a cluster when the prefix carries a hash tag, as every key then shares
 * one slot.
 */
export const REAP_SCRIPT = `
local now, limit, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local budget = tonumber(ARGV[4])
local out = {}
local claimed = 0
while claimed < limit and budget > 0 do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0,
    math.min(limit - claimed, budget))
  if #due == 0 then break end
  for _, peer in ipairs(due) do
    budget = budget - 1
    local key = prefix .. peer
    local cur = redis.call('HMGET', key, 'gw', 'tok', 'ttl', 'exp', 'reg', 'rev', 'sub', 'sim')
    if cur[2] == false then
      redis.call('ZREM', KEYS[1], peer)
    elseif tonumber(cur[4]) > now then
      redis.call('ZADD', KEYS[1], cur[4], peer)
    else
      redis.call('DEL', key)
      redis.call('ZREM', KEYS[1], peer)
      if cur[6] ~= '1' then
        claimed = claimed + 1
        out[#out + 1] = peer
        for f = 1, 5 do out[#out + 1] = cur[f] end
        out[#out + 1] = cur[7] or ''
        out[#out + 1] = cur[8] or ''
      end
    end
  end
end
return out
`;

/**
 * A subject's index (one sorted set, one slot): member "<peerId>:<nonce>" per
 * grant, score = when it was added (ms), so the oldest go first past the cap.
 * KEYS: the index. ARGV: score, member, most members kept.
 * Reply: the members left.
 */
export const SUBJECT_INDEX_ADD_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
local cap = tonumber(ARGV[3])
if n > cap then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - cap - 1)
  n = cap
end
return n
`;
