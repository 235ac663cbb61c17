--[[ signal_send.lua — a signal for a job: stored, and the job woken if it
is parked waiting for it (retry → due now).

The payload is stored under the signal's name in P:{Q}:signals:<id>
(replacing an unconsumed signal of the same name), kept ARGV[4] ms. When
the job is parked waiting for this signal (its memo's `~waiting` names it
and its id is in the retry set, where signal_wait.lua parked it), it is
made due now in the same step and the promoters are told (PUBLISH 's'):
the next promote makes it ready, and its run takes the signal
(signal_wait.lua). A signal sent before the job waits stays pending until
the job waits for it; one sent to a job that never waits for it lapses
with the TTL.

Called by: store/ops/signal_send.rs, from Client::signal
(jobqueue-core/src/client/signal.rs): a producer, the dashboard's API
(POST /api/v1/jobs/<id>/signals/<name>) or `jobqueue signal`.

KEYS[1]  P:{Q}:signals:<id>   hash  pending signals: name → payload
KEYS[2]  P:{Q}:steps:<id>     hash  the job's memo
KEYS[3]  P:{Q}:retry          zset  id → retry-at ms
KEYS[4]  P:{Q}:signal_wait    zset  the index of parked jobs (a woken job
         leaves it)
ARGV[1]  job id
ARGV[2]  signal name
ARGV[3]  payload JSON
ARGV[4]  how long an unconsumed signal is kept, ms
ARGV[5]  P:{Q}:events pub/sub channel

Returns: 1 when a parked job was woken, 0 when the signal waits for the job.
]]
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if redis.call('HGET', KEYS[2], '~waiting') ~= ARGV[2] then return 0 end
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[3], 'XX', math.floor(now_ms()), ARGV[1])
redis.call('HDEL', KEYS[2], '~waiting')
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('PUBLISH', ARGV[5], 's')
return 1
