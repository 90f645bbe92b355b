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
//   …:c:<route key>:m                 a collection's meta (hash: seq change counter, ord create counter,
//                                     ids ids named, ep token epoch, dx the delta-expiry generation it was made under)
//   …:c:<route key>:i                 its client-written items (hash: key → "version|changedSeq|bytes|ord|json")
//   …:c:<route key>:r                 its removed keys (hash: key → seq of the deletion)
//   …:opn                             operations started in the session (names the next monitor id)
//   …:bytes                           bytes clients wrote into the session's collections (the per-session cap)
//   …:op:<id>                         a long-running operation (hash)
//   <prefix>op:<id>                   where operation <id> lives ("<scenario>:<session>", encoded)
//   <prefix>epoch                     delta token epochs: every new collection state and expiry takes the next
//   <prefix>gen:dx:<route key>        delta expiry of one route in every session
//   <prefix>admin:log                 admin changes, the newest ADMIN_LOG_ENTRIES (stream; replayed after a lost connection)
// A reset is one INCR: keys of an older generation are never read again and expire by their TTL.
// Keys are built inside the scripts, so this needs a standalone Redis (not Redis Cluster).
//
// The clock is Redis's TIME (ms), so replicas on machines with skewed clocks still agree.

const GENERATIONS = `
local prefix = ARGV[1]
local function gen(k) return redis.call('GET', prefix .. k) or '0' end
local function baseOf(sc, se)
  return prefix .. 'st:' .. gen('gen') .. '.' .. gen('gen:sc:' .. sc) .. '.' .. gen('gen:se:' .. se)
    .. ':' .. sc .. ':' .. se .. ':'
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- a GUID (version-4 layout) from a name: the n-th id of a seeded stream, the same on every replica
local function guid(name)
  local h = redis.sha1hex(name)
  local variant = string.sub('89ab', tonumber(string.sub(h, 17, 17), 16) % 4 + 1, tonumber(string.sub(h, 17, 17), 16) % 4 + 1)
  return string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-4' .. string.sub(h, 14, 16) .. '-' .. variant
    .. string.sub(h, 18, 20) .. '-' .. string.sub(h, 21, 32)
end
`;

const PRELUDE = `${GENERATIONS}
local base = baseOf(ARGV[2], ARGV[3])
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

/**
 * The keys of one collection (ARGV[4]: route key) and its token epoch, made on first use and renewed
 * when an expiry of the route in every session (gen:dx:<route key>) happened since. Every touch renews
 * the idle TTL (ARGV[5]).
 */
const COLLECTION = `${PRELUDE}
local c = base .. 'c:' .. ARGV[4] .. ':'
local mk, ik, rk, bk = c .. 'm', c .. 'i', c .. 'r', base .. 'bytes'
local ttl = ARGV[5]
local function newEpoch()
  local e = redis.call('INCR', prefix .. 'epoch')
  redis.call('PEXPIRE', prefix .. 'epoch', 604800000)
  return e
end
local dx = gen('gen:dx:' .. ARGV[4])
local meta = redis.call('HMGET', mk, 'seq', 'ep', 'dx')
local ep = meta[2]
if not ep or meta[3] ~= dx then
  ep = newEpoch()
  redis.call('HSET', mk, 'ep', ep, 'dx', dx)
end
for _, k in ipairs({ mk, ik, rk, bk }) do redis.call('PEXPIRE', k, ttl) end
`;

/**
 * ARGV: prefix, scenario, session, route key, ttl ms.
 * Returns { seq, epoch, now, [key, record, …] of the written items, [key, seq, …] of the removed }.
 */
export const COLLECTION_READ = `${COLLECTION}
return { tonumber(meta[1]) or 0, tonumber(ep), now, redis.call('HGETALL', ik), redis.call('HGETALL', rk) }
`;

/**
 * The top-level members of a JSON object text as JSON.stringify writes it (no whitespace):
 * { { name (quoted, as written), value text }, … }. A PATCH merges on these texts, so values and the
 * order of the properties come back exactly as the clients sent them.
 */
const MEMBERS = `
local function valueEnd(s, i)
  local c = string.sub(s, i, i)
  if c == '"' then
    local j = i + 1
    while true do
      local k = string.find(s, '["\\\\]', j)
      if string.sub(s, k, k) == '"' then return k end
      j = k + 2
    end
  elseif c == '{' or c == '[' then
    local depth, j = 0, i
    while true do
      local k = string.find(s, '[%[%]{}"]', j)
      local d = string.sub(s, k, k)
      if d == '"' then k = valueEnd(s, k)
      elseif d == '{' or d == '[' then depth = depth + 1
      else
        depth = depth - 1
        if depth == 0 then return k end
      end
      j = k + 1
    end
  end
  return string.find(s, '[,}%]]', i) - 1
end
local function members(s)
  local out, i = {}, 2
  while string.sub(s, i, i) == '"' do
    local ne = valueEnd(s, i)
    local ve = valueEnd(s, ne + 2)
    out[#out + 1] = { string.sub(s, i, ne), string.sub(s, ne + 2, ve) }
    i = ve + 2
  end
  return out
end
`;

/**
 * ARGV: prefix, scenario, session, route key, ttl ms, op (c create | u update | m merge | d delete),
 * key ('' on create: the script names it), expected version (0: absent, -1: any existing), key is a
 * seed key (0|1), entity JSON (merge: the patch), its bytes, the session's byte cap, the seeded stream
 * ids are named from, the versions If-Match accepts ('*': any, else comma-separated), the seed
 * entity's JSON (merge of a seed entity never written).
 * Applies the write only when the entity is as expected (else 'conflict': the caller reads and
 * decides again, which answers the 404, 409 or 412) and the session stays under its cap (else
 * 'quota'). Returns { 'ok', version, changedSeq, ord, key, merged entity JSON }.
 */
export const COLLECTION_WRITE = `${COLLECTION}${MEMBERS}
local op, key, expected = ARGV[6], ARGV[7], tonumber(ARGV[8])
local entity = ARGV[10]
if op == 'c' and key == '' then
  -- the store names it: the next id of the seeded stream ARGV[13] not taken, put first as "id"
  repeat key = guid(ARGV[13] .. ':' .. ARGV[3] .. '#' .. redis.call('HINCRBY', mk, 'ids', 1)) until redis.call('HEXISTS', ik, key) == 0
  if entity == '{}' then entity = '{"id":"' .. key .. '"}' else entity = '{"id":"' .. key .. '",' .. string.sub(entity, 2) end
end
local rec = redis.call('HGET', ik, key)
local cur, curBytes, ord, head = 0, 0, 0, ''
if rec then
  local v, cs, b, o = string.match(rec, '^(%d+)|(%d+)|(%d+)|(%d+)|')
  cur, curBytes, ord = tonumber(v), tonumber(b), tonumber(o)
  head = v .. '|' .. cs .. '|' .. b .. '|' .. o .. '|'
elseif ARGV[9] == '1' and redis.call('HEXISTS', rk, key) == 0 then
  cur = 1
end
if (expected < 0 and cur == 0) or (expected >= 0 and cur ~= expected) then return { 'conflict' } end
if ARGV[14] ~= '*' then
  local ok = false
  for v in string.gmatch(ARGV[14], '%d+') do if tonumber(v) == cur then ok = true end end
  if not ok then return { 'conflict' } end
end
local bytes = tonumber(ARGV[11])
if op == 'm' then
  -- the patch's members replace the entity's in place; new ones go last (as {...entity, ...patch})
  local base = ARGV[15]
  if rec then base = string.sub(rec, #head + 1) end
  local ms, at = members(base), {}
  for k, m in ipairs(ms) do at[m[1]] = k end
  for _, p in ipairs(members(entity)) do
    if at[p[1]] then ms[at[p[1]]][2] = p[2] else ms[#ms + 1] = p; at[p[1]] = #ms end
  end
  local parts = {}
  for k, m in ipairs(ms) do parts[k] = m[1] .. ':' .. m[2] end
  entity = '{' .. table.concat(parts, ',') .. '}'
  bytes = #entity
end
local delta = bytes - curBytes
if op == 'd' then delta = -curBytes end
if delta > 0 and (tonumber(redis.call('GET', bk)) or 0) + delta > tonumber(ARGV[12]) then return { 'quota' } end
if delta ~= 0 then
  redis.call('INCRBY', bk, delta)
  redis.call('PEXPIRE', bk, ttl)
end
local seq = redis.call('HINCRBY', mk, 'seq', 1)
if op == 'd' then
  redis.call('HDEL', ik, key)
  redis.call('HSET', rk, key, seq)
  redis.call('PEXPIRE', rk, ttl)
  return { 'ok', 0, seq, 0, key }
end
local version = cur + 1
if op == 'c' then
  version = 1
  ord = redis.call('HINCRBY', mk, 'ord', 1)
  redis.call('HDEL', rk, key)
end
redis.call('HSET', ik, key, version .. '|' .. seq .. '|' .. bytes .. '|' .. ord .. '|' .. entity)
redis.call('PEXPIRE', ik, ttl)
if op == 'm' then return { 'ok', version, seq, ord, key, entity } end
return { 'ok', version, seq, ord, key }
`;

/** ARGV: prefix, scenario, session, route key, ttl ms. A new token epoch for the collection in this session. */
export const COLLECTION_EXPIRE = `${COLLECTION}
redis.call('HSET', mk, 'ep', newEpoch())
return 1
`;

/**
 * ARGV: prefix, scenario, session, seeded stream, scenario name, route key, duration ms, resource id,
 * ttl ms. Names the operation (the session's n-th of the stream: a reset session names the same
 * ids again, as the memory store's reset random stream does) and returns { id, started (Redis's clock) }.
 */
export const OPERATION_START = `${PRELUDE}
local n = redis.call('INCR', base .. 'opn')
redis.call('PEXPIRE', base .. 'opn', ARGV[9])
local id = guid(ARGV[4] .. ':' .. ARGV[3] .. '#' .. n)
local idx = prefix .. 'op:' .. id
redis.call('SET', idx, ARGV[2] .. ':' .. ARGV[3], 'PX', ARGV[9])
local k = base .. 'op:' .. id
redis.call('HSET', k, 'scenario', ARGV[5], 'route', ARGV[6], 'started', now, 'duration', ARGV[7], 'resource', ARGV[8])
redis.call('PEXPIRE', k, ARGV[9])
return { id, tostring(now) }
`;

/**
 * ARGV: prefix, id. Returns { scenario name, route key, started, duration ms, resource id, now }, or
 * nil when unknown or reset since (its session's generation moved on).
 */
export const OPERATION_GET = `${GENERATIONS}
local w = redis.call('GET', prefix .. 'op:' .. ARGV[2])
if not w then return nil end
local sc, se = string.match(w, '^([^:]*):(.*)$')
local h = redis.call('HMGET', baseOf(sc, se) .. 'op:' .. ARGV[2], 'scenario', 'route', 'started', 'duration', 'resource')
if not h[2] then return nil end
return { h[1], h[2], h[3], h[4], h[5], tostring(now) }
`;

/**
 * ARGV: prefix, message JSON, entries kept, ttl ms. Appends an admin change to the capped stream
 * `<prefix>admin:log` and publishes `<stream id>\n<JSON>` on `<prefix>admin` in the same step, so a
 * replica that was cut off from Redis reads what it missed after the last id it saw. Returns the id.
 */
export const ADMIN_LOG = `
local log = ARGV[1] .. 'admin:log'
local id = redis.call('XADD', log, 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[2])
redis.call('PEXPIRE', log, ARGV[4])
redis.call('PUBLISH', ARGV[1] .. 'admin', id .. '\\n' .. ARGV[2])
return id
`;
