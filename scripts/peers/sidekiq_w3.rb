# w3 (enqueue -> start latency, ../../docs/benchmarks.md) on Sidekiq, for
# scripts/bench-peers. Two roles in one file:
#
#   sidekiq -r ./scripts/peers/sidekiq_w3.rb -c 20 -q <queue>   # the worker
#   ruby scripts/peers/sidekiq_w3.rb produce                    # the producer
#
# both configured by the environment: REDIS_URL, W3_QUEUE, W3_JOBS (5000),
# W3_RATE (500/s). The same shape as `jobqueue bench w3`: 500 warm-up jobs
# at the rate, then W3_JOBS measured ones, each carrying its enqueue
# wall-clock time in ns and the ~100-byte payload; the job takes its start
# time first and writes start minus enqueue to a Redis list through the
# client connection pool (a separate connection from the fetcher's). The
# producer prints one JSON line like jobqueue's.
require "json"
require "sidekiq"
require "sidekiq/api"

# Sidekiq 6.4 calls redis-rb 4.8 APIs that warn on every call.
Redis.silence_deprecations = true

REDIS_URL = ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379")
QUEUE = ENV.fetch("W3_QUEUE", "w3")
SAMPLES = "#{QUEUE}:latency_ns"
WARMUP = 500

Sidekiq.configure_server { |config| config.redis = { url: REDIS_URL } }
Sidekiq.configure_client { |config| config.redis = { url: REDIS_URL, size: 2 } }

def now_ns
  Process.clock_gettime(Process::CLOCK_REALTIME, :nanosecond)
end

# The bench job: records its start minus its enqueue time (measured jobs only).
class BenchJob
  include Sidekiq::Worker
  sidekiq_options retry: 25

  def perform(sent_ns, warmup, _payload)
    started = now_ns
    return if warmup

    Sidekiq.redis { |conn| conn.rpush(SAMPLES, started - sent_ns) }
  end
end

def percentile(sorted, p)
  sorted[[(p * sorted.length).ceil - 1, 0].max]
end

def produce
  n = Integer(ENV.fetch("W3_JOBS", "5000"))
  rate = Float(ENV.fetch("W3_RATE", "500"))
  period = 1.0 / rate
  Sidekiq.redis { |conn| conn.del(SAMPLES) }
  # Waits for the worker process to report in.
  deadline = Time.now + 30
  sleep 0.05 until Sidekiq::ProcessSet.new.size.positive? || Time.now > deadline
  raise "the Sidekiq worker never started" if Sidekiq::ProcessSet.new.size.zero?

  send_jobs = lambda do |count, warmup|
    next_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    started = next_at
    count.times do |i|
      pause = next_at - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      sleep pause if pause.positive?
      next_at += period
      payload = { "user_id" => i, "email" => "user#{i}@example.com", "action" => "welcome",
                  "pad" => "xxxxxxxxxxxxxxxxxxxxxxxx" }
      Sidekiq::Client.push("class" => BenchJob, "queue" => QUEUE,
                           "args" => [now_ns, warmup, payload])
    end
    count / (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
  end
  send_jobs.call(WARMUP, true)
  achieved = send_jobs.call(n, false)
  deadline = Time.now + 60
  sleep 0.05 while Sidekiq.redis { |conn| conn.llen(SAMPLES) } < n && Time.now < deadline
  samples = Sidekiq.redis { |conn| conn.lrange(SAMPLES, 0, -1) }.map { |s| Integer(s) / 1e6 }.sort
  raise "only #{samples.length} of #{n} jobs ran" if samples.length < n

  puts JSON.generate(
    "system" => "sidekiq", "version" => Sidekiq::VERSION, "workload" => "w3",
    "n" => n, "target_rate" => rate, "achieved_rate" => achieved.round(3),
    "p50_ms" => percentile(samples, 0.50).round(3), "p95_ms" => percentile(samples, 0.95).round(3),
    "p99_ms" => percentile(samples, 0.99).round(3), "max_ms" => samples.last.round(3),
    "min_ms" => samples.first.round(3)
  )
end

produce if __FILE__ == $PROGRAM_NAME && ARGV.first == "produce"
