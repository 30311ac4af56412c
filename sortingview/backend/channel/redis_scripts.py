"""The Redis channel's Lua scripts: every state change is one script, so it is atomic on the server.

Besides the layout in redis_channel.py, ``w:<backendId>:<handler>`` is a list of *wake tokens*: one is pushed
with each queued job (never more tokens than queued jobs), and a worker that claims its own jobs blocks on it
(BLPOP) while idle, so one submission wakes one worker. A claim pops one token per job it takes from the queue,
less the ``credit`` of a token its caller already popped. Tokens are hints only: a lost or spare one costs at
most an idle worker's periodic look (its BLPOP times out) or an empty claim.
"""
from __future__ import annotations

NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"

# wake(prefix, backend id, handler, jobs now queued): one wake token more, never more tokens than queued jobs
WAKE_FN = """
local function wake(P, backend, handler, queued)
  local w = P .. 'w:' .. backend .. ':' .. handler
  if redis.call('LLEN', w) < queued then redis.call('RPUSH', w, '1') end
end
"""

SUBMIT = NOW + WAKE_FN + """
local P, id = ARGV[1], ARGV[2]
local job = P .. 'job:' .. id
local st = redis.call('HGET', job, 'status')
if st == 'queued' or st == 'running' then return redis.call('HMGET', job, 'status', 'worker', 'attempts') end
if st then  -- ended before: forget that run (its result, error and token) and queue it afresh
  redis.call('DEL', job, P .. 'done:' .. id)
  redis.call('ZREM', P .. 'finished', id)
  redis.call('ZREM', P .. 'error', id)
end
redis.call('HSET', job, 'job_id', id, 'task_name', ARGV[3], 'task_type', ARGV[4], 'handler', ARGV[5],
  'task_input', ARGV[6], 'backend_id', ARGV[7], 'status', 'queued', 'attempts', 0,
  'submitted', string.format('%.6f', now))
local q = P .. 'q:' .. ARGV[7] .. ':' .. ARGV[5]
local n = redis.call('RPUSH', q, id)
wake(P, ARGV[7], ARGV[5], n)
-- wake idle backends only when the queue was empty: a queue with jobs in it has a backend (or its workers,
-- which claim their next job as they finish one) on the way to it, and a wake-up per job would cost every
-- subscribed backend a turn of its loop per submission
if n == 1 then
  redis.call('SADD', P .. 'queues', q)
  redis.call('PUBLISH', P .. 'events:' .. ARGV[5], 'queued')
end
return {'queued', false, '0'}
"""

# wants(index of the first (handler, n) pair in ARGV): handler -> n;
# claim(prefix, worker, lease seconds, backend id, wake tokens already popped, handler -> n)
CLAIM_FN = """
local function wants(first)
  local want = {}
  for i = first, #ARGV, 2 do want[ARGV[i]] = tonumber(ARGV[i + 1]) end
  return want
end
local function claim(P, worker, lease, backend, credit, want)
  local out = {}
  local function take(id)
    local job = P .. 'job:' .. id
    redis.call('HSET', job, 'status', 'running', 'worker', worker,
      'lease_until', string.format('%.6f', now + lease), 'started', string.format('%.6f', now))
    redis.call('HINCRBY', job, 'attempts', 1)
    redis.call('ZADD', P .. 'running', now + lease, id)
    out[#out + 1] = redis.call('HGETALL', job)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'running', '-inf', '(' .. now)) do
    local f = redis.call('HMGET', P .. 'job:' .. id, 'handler', 'backend_id')
    if f[2] == backend and want[f[1]] and want[f[1]] > 0 then
      want[f[1]] = want[f[1]] - 1
      take(id)
    end
  end
  for handler, n in pairs(want) do
    local q = P .. 'q:' .. backend .. ':' .. handler
    while n > 0 do
      local id = redis.call('LPOP', q)
      if not id then break end
      if redis.call('HGET', P .. 'job:' .. id, 'status') == 'queued' then
        take(id)
        n = n - 1
        if credit > 0 then credit = credit - 1 else redis.call('LPOP', P .. 'w:' .. backend .. ':' .. handler) end
      end
    end
  end
  return out
end
"""

CLAIM = NOW + CLAIM_FN + "return claim(ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), wants(6))\n"

HEARTBEAT = NOW + """
local P, worker, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local job = P .. 'job:' .. ARGV[i]
  local f = redis.call('HMGET', job, 'status', 'worker')
  if f[1] == 'running' and f[2] == worker then
    redis.call('HSET', job, 'lease_until', string.format('%.6f', now + lease))
    redis.call('ZADD', P .. 'running', now + lease, ARGV[i])
    out[#out + 1] = ARGV[i]
  end
end
return out
"""

# end_job(prefix, worker, id, action (finish|fail|release|release_count), a, b, has_a): 1, or 0 when
# ``worker`` does not hold the job
END_FN = """
local function end_job(P, worker, id, action, a, b, has_a)
  local job = P .. 'job:' .. id
  local f = redis.call('HMGET', job, 'status', 'worker', 'handler', 'backend_id')
  if f[1] ~= 'running' or f[2] ~= worker then return 0 end
  redis.call('ZREM', P .. 'running', id)
  redis.call('HDEL', job, 'lease_until')
  if action == 'finish' or action == 'fail' then
    local status = action == 'finish' and 'finished' or 'error'
    local ended = string.format('%.6f', now)
    if action == 'fail' then
      redis.call('HSET', job, 'status', status, 'finished', ended, 'error', a, 'traceback', b)
    elseif has_a == '1' then
      redis.call('HSET', job, 'status', status, 'finished', ended, 'result', a)
    else
      redis.call('HSET', job, 'status', status, 'finished', ended)
    end
    redis.call('ZADD', P .. status, now, id)
    -- the token waiting clients block on; it lives as long as the record (prune deletes both, and a new
    -- submission of the job deletes it)
    redis.call('RPUSH', P .. 'done:' .. id, '1')
  else
    redis.call('HSET', job, 'status', 'queued')
    redis.call('HDEL', job, 'worker')
    if action == 'release' then
      local n = tonumber(redis.call('HGET', job, 'attempts'))
      if n > 0 then redis.call('HSET', job, 'attempts', n - 1) end
    end
    local q = P .. 'q:' .. f[4] .. ':' .. f[3]
    wake(P, f[4], f[3], redis.call('LPUSH', q, id))
    redis.call('SADD', P .. 'queues', q)
    redis.call('PUBLISH', P .. 'events:' .. f[3], 'queued')
  end
  return 1
end
"""

END = NOW + WAKE_FN + END_FN + "return end_job(unpack(ARGV, 1, 7))\n"

# one script, so that a server that lost its scripts (NoScriptError) ran none of it and a retry is safe:
# ARGV as END's, then lease seconds, backend id and the (handler, n) pairs
END_CLAIM = (NOW + WAKE_FN + END_FN + CLAIM_FN + "return {end_job(unpack(ARGV, 1, 7)), "
              "claim(ARGV[1], ARGV[2], tonumber(ARGV[8]), ARGV[9], 0, wants(10))}\n")

# end_many(prefix, worker, lease seconds, backend id, handler, n wanted, workers sharing the queue, wake tokens
# already popped, jobs ended, then per ended job its END arguments (id, action, a, b, has_a)): ends every one,
# then claims up to n jobs of handler but no more than its share of the queue (queued / sharing workers, at
# least one), so a worker taking several short jobs at once never leaves the others idle. Returns
# {accepted per ended job, claimed records, jobs of handler still queued}.
END_MANY = NOW + WAKE_FN + END_FN + CLAIM_FN + """
local P, worker, lease, backend, handler = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local n, ended = tonumber(ARGV[6]), tonumber(ARGV[9])
local accepted = {}
for i = 0, ended - 1 do
  local j = 10 + 5 * i
  accepted[#accepted + 1] = end_job(P, worker, ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
end
if n > 1 then
  local share = math.ceil(redis.call('LLEN', P .. 'q:' .. backend .. ':' .. handler) / tonumber(ARGV[7]))
  n = math.max(1, math.min(n, share))
end
local claimed = {}
if n > 0 then claimed = claim(P, worker, lease, backend, tonumber(ARGV[8]), {[handler] = n}) end
return {accepted, claimed, redis.call('LLEN', P .. 'q:' .. backend .. ':' .. handler)}
"""

# expire(prefix, id, error): fail a job that is still queued; 1 when it was
EXPIRE = NOW + """
local P, id = ARGV[1], ARGV[2]
local job = P .. 'job:' .. id
local f = redis.call('HMGET', job, 'status', 'handler', 'backend_id')
if f[1] ~= 'queued' then return 0 end
redis.call('LREM', P .. 'q:' .. f[3] .. ':' .. f[2], 0, id)
redis.call('HSET', job, 'status', 'error', 'error', ARGV[3], 'finished', string.format('%.6f', now))
redis.call('ZADD', P .. 'error', now, id)
redis.call('RPUSH', P .. 'done:' .. id, '1')
return 1
"""

# request_stop(prefix, id, error): ask the holder of a running job to stop it; 1 when it was running
STOP = """
local job = ARGV[1] .. 'job:' .. ARGV[2]
if redis.call('HGET', job, 'status') ~= 'running' then return 0 end
redis.call('HSET', job, 'stop', ARGV[3])
return 1
"""

# hand_over(prefix, id, from, to, lease seconds): a running job's unexpired lease passes from one holder to
# another, renewed; 1 when it did (an expired lease may have been claimed by someone else already)
HAND_OVER = NOW + """
local job = ARGV[1] .. 'job:' .. ARGV[2]
local f = redis.call('HMGET', job, 'status', 'worker', 'lease_until')
if f[1] ~= 'running' or f[2] ~= ARGV[3] or tonumber(f[3]) < now then return 0 end
local lease = now + tonumber(ARGV[5])
redis.call('HSET', job, 'worker', ARGV[4], 'lease_until', string.format('%.6f', lease))
redis.call('ZADD', ARGV[1] .. 'running', lease, ARGV[2])
return 1
"""
