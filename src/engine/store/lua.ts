// The Lua scripts of the Redis store. Each decision is one EVALSHA: the script reads the reset
// generations, builds its keys, reads and writes the state and sets its TTL, atomically.
//
// Key layout (all under the prefix, `:` and `%` in names percent-encoded):
//   <prefix>gen                       full resets (admin reset without a session)
//   <prefix>gen:sc:<scenario>         scenario replaced or unloaded
//   <prefix>gen:se:<session>          one x-mock-session reset
//   <prefix>st:<g>.<g>.<g>:<scenario>:<session>:th:<limiter#digest>:<scope key>   limiter key (hash)
//   …:th:<limiter#digest>:<scope key>:log                                          sliding log (zset)
//   …:seq:<route key>                 sequence position (integer)
//   …:v:<name>                        small JSON value
// A reset is one INCR: keys of an older generation are never read again and expire by their TTL.
// Keys are built inside the scripts, so this needs a standalone Redis (not Redis Cluster).
//
// The clock is Redis's TIME (ms), so replicas on machines with skewed clocks still agree.

const PRELUDE = `
local prefix = ARGV[1]
local function gen(k) return redis.call('GET', prefix .. k) or '0' end
local base = prefix .. 'st:' .. gen('gen') .. '.' .. gen('gen:sc:' .. ARGV[2]) .. '.' .. gen('gen:se:' .. ARGV[3])
  .. ':' .. ARGV[2] .. ':' .. ARGV[3] .. ':'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * ARGV: prefix, scenario, session, limiter, scope key, algorithm (f|s|t), limit, window ms,
 * early retry (hold|extend|ignore), fixed Retry-After seconds (-1: auto), cost.
 * Returns { retryAt, early (0|1), used, resetMs, now } as strings (Lua numbers would be truncated).
 * The same arithmetic as throttle/limiters.ts and throttleRequest's early-retry rules.
 */
export const TAKE = `${PRELUDE}
local k = base .. 'th:' .. ARGV[4] .. ':' .. ARGV[5]
local logk = k .. ':log'
local alg = ARGV[6]
local limit = tonumber(ARGV[7])
local window = tonumber(ARGV[8])
local earlyRule = ARGV[9]
local fixedRA = tonumber(ARGV[10])
local cost = tonumber(ARGV[11])
local st = redis.call('HMGET', k, 'at', 'units', 'bu', 'pm')
local at = tonumber(st[1]) or now
local units = tonumber(st[2])
if units == nil then if alg == 't' then units = limit else units = 0 end end
local bu = tonumber(st[3]) or 0
local pm = tonumber(st[4]) or 0
if alg == 's' then
  local old = redis.call('ZRANGEBYSCORE', logk, '-inf', now - window)
  if #old > 0 then
    for i = 1, #old do units = units - tonumber(string.match(old[i], ':(.+)$')) end
    redis.call('ZREMRANGEBYSCORE', logk, '-inf', now - window)
  end
end
local early = bu > now
local retryAt = 0
if early and earlyRule ~= 'ignore' then
  if earlyRule == 'extend' then bu = now + pm end
  retryAt = bu
else
  local wait = 0
  if alg == 'f' then
    if now >= at + window then at = now; units = 0 end
    if units + cost <= limit then units = units + cost else wait = at + window - now end
  elseif alg == 's' then
    if units + cost <= limit then
      if cost > 0 then
        local n = redis.call('HINCRBY', k, 'n', 1)
        redis.call('ZADD', logk, now, n .. ':' .. cost)
        units = units + cost
      end
    else
      local need = units + cost - limit
      local freed = 0
      wait = window
      local log = redis.call('ZRANGE', logk, 0, -1, 'WITHSCORES')
      for i = 1, #log, 2 do
        freed = freed + tonumber(string.match(log[i], ':(.+)$'))
        if freed >= need then wait = tonumber(log[i + 1]) + window - now; break end
      end
    end
  else
    local rate = limit / window
    if now > at then units = math.min(limit, units + (now - at) * rate); at = now end
    if units + 1e-9 >= cost then units = math.max(0, units - cost)
    else wait = math.ceil((cost - units) / rate - 1e-6) end
  end
  if wait > 0 then
    local seconds = math.max(1, math.ceil(wait / 1000))
    if fixedRA >= 0 then seconds = fixedRA end
    pm = seconds * 1000
    bu = now + pm
    retryAt = bu
  end
end
local used, resetMs
if alg == 'f' then
  if now >= at + window then used = 0 else used = units end
  if now >= at + window or units == 0 then resetMs = 0 else resetMs = at + window - now end
elseif alg == 's' then
  used = units
  local last = redis.call('ZRANGE', logk, -1, -1, 'WITHSCORES')
  if #last == 0 then resetMs = 0 else resetMs = math.max(0, tonumber(last[2]) + window - now) end
else
  local rate = limit / window
  local tokens = units
  if now > at then tokens = math.min(limit, units + (now - at) * rate) end
  used = limit - tokens
  resetMs = (limit - tokens) / rate
end
used = math.ceil(used - 1e-9)
local ttl = math.ceil(math.max(resetMs, bu - now)) + 1000
redis.call('HSET', k, 'at', string.format('%.17g', at), 'units', string.format('%.17g', units), 'bu', bu, 'pm', pm)
redis.call('PEXPIRE', k, ttl)
if alg == 's' then redis.call('PEXPIRE', logk, ttl) end
local e = 0
if early then e = 1 end
return { string.format('%.17g', retryAt), e, string.format('%.17g', used), string.format('%.17g', resetMs), string.format('%.17g', now) }
`;

/** ARGV: prefix, scenario, session, route key, ttl ms. Returns the position before this call. */
export const ADVANCE = `${PRELUDE}
local k = base .. 'seq:' .. ARGV[4]
local n = redis.call('INCR', k)
redis.call('PEXPIRE', k, ARGV[5])
return n - 1
`;

/** ARGV: prefix, scenario, session, name. Returns the JSON text or nil. */
export const GET = `${PRELUDE}
return redis.call('GET', base .. 'v:' .. ARGV[4])
`;

/** ARGV: prefix, scenario, session, name, JSON text, ttl ms. */
export const SET = `${PRELUDE}
redis.call('SET', base .. 'v:' .. ARGV[4], ARGV[5], 'PX', ARGV[6])
return 1
`;
