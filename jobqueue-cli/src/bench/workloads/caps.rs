//! `caps`: Redis memory stays flat once the caps are reached (issue 16:
//! "history, logs and events are each bounded by their caps; a
//! 1,000,000-job run shows Redis memory flat once the caps are reached").
//!
//! The run switches on the capped features named by flags (`--logs`,
//! `--events`, `--history`; see [`CappedFeature`]), starts a worker in this process with a
//! small dead-set cap (`--dead-max`, default 1000) and runs N jobs (default
//! 1,000,000) in 20 windows of N/20: each window is bulk-enqueued, drained,
//! and then Redis is sampled — `used_memory`, the keys under the run's
//! prefix, the dead set's size and what each feature holds. Every job logs
//! one line; one in `--fail-every` (default 10) fails for good, so it goes
//! dead and keeps its log until the dead-set cap trims it (and its log with
//! it). Sampling after each drain means no backlog is in the figures:
//! what remains is what the caps bound.
//!
//! The verdict `flat` compares the last sample with the first one taken at
//! or after N/2 jobs: memory may grow by at most [`FLAT_FLOOR_BYTES`] or
//! [`FLAT_BYTES_PER_JOB`] per job of the second half, whichever is larger.
//! A leak of one log per dead job (~400 bytes per dead job, ~40 bytes per
//! job at one in ten) is forty times that.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jobqueue_core::store::DeadLimits;
use jobqueue_core::store::keys::QueueKeys;
use jobqueue_core::{Client, ClientConfig};
use jobqueue_worker::{JobLogs, Worker, WorkerBuilder};
use redis::aio::MultiplexedConnection;
use serde_json::{Value, json};

use crate::bench::args::BenchArgs;
use crate::bench::job::BenchJob;
use crate::bench::keyspace::delete_keys;
use crate::bench::produce::{enqueue_in_batches, run_client};
use crate::bench::report::{print_line, progress, round3};
use crate::bench::workloads::memory::used_memory;

/// The queue the run uses.
const QUEUE: &str = "bench";
/// Windows of the run: one sample after each (plus one before any job).
const WINDOWS: u64 = 20;
/// Growth over the second half always allowed: Redis's own bookkeeping
/// (client buffers, the stats' minute buckets) moves by some KiB.
pub const FLAT_FLOOR_BYTES: u64 = 1024 * 1024;
/// Growth per job of the second half allowed beyond the floor.
pub const FLAT_BYTES_PER_JOB: f64 = 1.0;

/// A capped feature the run switches on and samples, each named by its own
/// flag: a variant, its flag in [`CappedFeature::chosen`], its worker
/// setting in `enable`, its switch in Redis in `switch_on`, and what it
/// holds in `held`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CappedFeature {
    /// Per-job logs (`--logs`): one `P:{Q}:logs:<id>` hash per job that
    /// keeps its record (dead jobs here), deleted with the record.
    Logs,
    /// The live event stream (`--events`), capped at `--events-cap`
    /// entries (one per script call).
    Events,
    /// The history of finished jobs (`--history`), capped at
    /// `--history-cap` entries (one per job), no exporter.
    History,
}

impl CappedFeature {
    /// The features `args` switches on.
    pub fn chosen(args: &BenchArgs) -> Vec<Self> {
        let mut features = Vec::new();
        if args.logs {
            features.push(Self::Logs);
        }
        if args.events {
            features.push(Self::Events);
        }
        if args.history {
            features.push(Self::History);
        }
        features
    }

    /// Its name in the JSON line (and its flag without `--`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Logs => "logs",
            Self::Events => "events",
            Self::History => "history",
        }
    }

    /// Switches it on in the worker, with its default caps.
    fn enable(self, worker: WorkerBuilder) -> WorkerBuilder {
        match self {
            Self::Logs => worker.job_logs(JobLogs::new()),
            Self::Events | Self::History => worker,
        }
    }

    /// Switches it on for the queue in Redis, with the cap `args` give.
    async fn switch_on(self, client: &Client, args: &BenchArgs) -> Result<(), String> {
        let admin = client.admin();
        let switched = match self {
            Self::Logs => Ok(()),
            Self::Events => admin.set_event_stream(QUEUE, Some(args.events_cap)).await,
            Self::History => admin.set_history(QUEUE, Some(args.history_cap), None).await,
        };
        switched.map_err(|e| e.to_string())
    }

    /// How many entries it holds now: logs count their keys (found among
    /// the run's `keys`, one SCAN serving every feature), the streams their
    /// entries.
    async fn held(
        self,
        conn: &mut MultiplexedConnection,
        queue: &QueueKeys,
        keys: &[String],
    ) -> Result<u64, String> {
        match self {
            Self::Logs => {
                let logs = queue.logs("");
                Ok(keys.iter().filter(|key| key.starts_with(&logs)).count() as u64)
            }
            Self::Events | Self::History => {
                let stream = if self == Self::Events {
                    queue.event_stream()
                } else {
                    queue.history()
                };
                redis::cmd("XLEN")
                    .arg(stream)
                    .query_async(conn)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// Redis, sampled after a window drained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapsSample {
    /// Jobs run so far.
    pub jobs: u64,
    /// Redis's `used_memory`, bytes (the whole server).
    pub used_memory: u64,
    /// Keys under the run's prefix.
    pub keys: u64,
    /// Jobs in the queue's dead set.
    pub dead: u64,
    /// What each feature holds (its name → entries).
    pub held: BTreeMap<&'static str, u64>,
}

/// The outcome of a `caps` run.
#[derive(Debug, Clone, PartialEq)]
pub struct CapsReport {
    /// Jobs run.
    pub n: u64,
    /// The worker's dead-set cap.
    pub dead_max: u64,
    /// One job in this many failed for good (0: none).
    pub fail_every: u64,
    /// The features switched on.
    pub features: Vec<CappedFeature>,
    /// One sample before any job, then one after each window.
    pub samples: Vec<CapsSample>,
    /// `used_memory` growth from the first sample at or after N/2 to the
    /// last, bytes (negative: it shrank).
    pub growth_second_half_bytes: i64,
    /// The growth allowed for `flat`.
    pub threshold_bytes: u64,
    /// Whether memory stayed flat over the second half.
    pub flat: bool,
    /// Jobs that succeeded, from the queue's counters.
    pub processed: u64,
    /// Jobs that failed (gone dead).
    pub failed: u64,
    /// Dead jobs the cap trimmed (with their logs).
    pub dead_trimmed: u64,
    /// Seconds the run took (enqueueing, draining and sampling).
    pub seconds: f64,
}

impl CapsReport {
    /// The fields of its JSON line.
    pub fn to_json(&self) -> Value {
        let samples: Vec<Value> = self
            .samples
            .iter()
            .map(|sample| {
                let mut fields = json!({
                    "jobs": sample.jobs,
                    "used_memory": sample.used_memory,
                    "keys": sample.keys,
                    "dead": sample.dead,
                });
                for (name, held) in &sample.held {
                    fields[*name] = json!(held);
                }
                fields
            })
            .collect();
        json!({
            "n": self.n,
            "dead_max": self.dead_max,
            "fail_every": self.fail_every,
            "features": self.features.iter().map(|f| f.name()).collect::<Vec<_>>(),
            "processed": self.processed,
            "failed": self.failed,
            "dead_trimmed": self.dead_trimmed,
            "seconds": round3(self.seconds),
            "samples": samples,
            "growth_second_half_bytes": self.growth_second_half_bytes,
            "threshold_bytes": self.threshold_bytes,
            "flat": self.flat,
        })
    }
}

/// `jobqueue bench caps`: runs and prints the line.
pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let report = run_caps(config, args).await?;
    print_line("caps", report.to_json());
    Ok(())
}

/// Runs the `caps` workload (see the module doc) under a fresh prefix
/// derived from `config`'s, deletes its keys, and returns its samples and
/// verdict.
pub async fn run_caps(config: ClientConfig, args: &BenchArgs) -> Result<CapsReport, String> {
    let n = args.jobs.unwrap_or(1_000_000);
    let features = CappedFeature::chosen(args);
    let (client, prefix) = run_client(&config).await?;
    let queue = client
        .store()
        .queue_keys(QUEUE)
        .map_err(|e| e.to_string())?;
    let mut conn = redis::Client::open(config.redis_url())
        .map_err(|e| e.to_string())?
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let mut builder = Worker::builder(client.clone())
        .register::<BenchJob>()
        .queues([QUEUE])
        .allow_unserved_queues()
        .concurrency(args.concurrency)
        .dead_limits(DeadLimits {
            max_jobs: args.dead_max,
            ..DeadLimits::default()
        });
    for feature in &features {
        builder = feature.enable(builder);
        feature.switch_on(&client, args).await?;
    }
    let worker = builder.start().await.map_err(|e| e.to_string())?;
    let sampler = Sampler {
        url: config.redis_url(),
        prefix: &prefix,
        queue: &queue,
        features: &features,
    };
    let started = Instant::now();
    let mut samples = vec![sampler.sample(&mut conn, 0).await?];
    let window = n.div_ceil(WINDOWS).max(1);
    let mut ran = 0;
    while ran < n {
        let size = window.min(n - ran);
        let first = ran;
        enqueue_in_batches(&client, size, args.batch, |client, i| {
            let mut job = BenchJob::new(first + i);
            job.fail_permanently = args.fail_every > 0 && (first + i) % args.fail_every == 0;
            client.job(job).queue(QUEUE).prepare()
        })
        .await?;
        wait_until_drained(&client).await?;
        ran += size;
        let sample = sampler.sample(&mut conn, ran).await?;
        progress(format_args!(
            "caps: {ran} jobs, used_memory {} B, {} keys, {} dead, {:?}",
            sample.used_memory, sample.keys, sample.dead, sample.held
        ));
        samples.push(sample);
    }
    let seconds = started.elapsed().as_secs_f64();
    worker.shutdown().await;
    let stats = client
        .admin()
        .queue(QUEUE)
        .await
        .map_err(|e| e.to_string())?;
    delete_keys(config.redis_url(), &prefix).await?;
    let (growth, threshold) = second_half_growth(&samples, n);
    Ok(CapsReport {
        n,
        dead_max: args.dead_max,
        fail_every: args.fail_every,
        features,
        samples,
        growth_second_half_bytes: growth,
        threshold_bytes: threshold,
        flat: growth <= threshold as i64,
        processed: stats.processed,
        failed: stats.failed,
        dead_trimmed: stats.dead_trimmed,
        seconds,
    })
}

/// `used_memory` growth from the first sample at or after `n / 2` jobs to
/// the last, and the growth allowed.
fn second_half_growth(samples: &[CapsSample], n: u64) -> (i64, u64) {
    let middle = samples.iter().find(|sample| sample.jobs >= n / 2);
    let (Some(middle), Some(last)) = (middle, samples.last()) else {
        return (0, FLAT_FLOOR_BYTES);
    };
    let growth = last.used_memory as i64 - middle.used_memory as i64;
    let per_job = (FLAT_BYTES_PER_JOB * (last.jobs - middle.jobs) as f64) as u64;
    (growth, FLAT_FLOOR_BYTES.max(per_job))
}

/// Waits until nothing of the queue waits, runs or waits for a retry.
async fn wait_until_drained(client: &Client) -> Result<(), String> {
    let admin = client.admin();
    loop {
        let info = admin.queue(QUEUE).await.map_err(|e| e.to_string())?;
        if info.ready == 0 && info.active == 0 && info.retry == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Reads a sample of the run's Redis.
struct Sampler<'a> {
    url: &'a str,
    prefix: &'a str,
    queue: &'a QueueKeys,
    features: &'a [CappedFeature],
}

impl Sampler<'_> {
    async fn sample(
        &self,
        conn: &mut MultiplexedConnection,
        jobs: u64,
    ) -> Result<CapsSample, String> {
        let keys = self.keys(conn).await?;
        let dead: u64 = redis::cmd("ZCARD")
            .arg(self.queue.dead())
            .query_async(conn)
            .await
            .map_err(|e| e.to_string())?;
        let mut held = BTreeMap::new();
        for feature in self.features {
            held.insert(feature.name(), feature.held(conn, self.queue, &keys).await?);
        }
        Ok(CapsSample {
            jobs,
            used_memory: used_memory(self.url).await?,
            keys: keys.len() as u64,
            dead,
            held,
        })
    }

    /// Every key under the run's prefix (SCAN: bounded steps; the caps keep
    /// the count small, and a leak shows as a long scan, not a stall).
    async fn keys(&self, conn: &mut MultiplexedConnection) -> Result<Vec<String>, String> {
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}:*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(conn)
                .await
                .map_err(|e| e.to_string())?;
            keys.extend(found);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(jobs: u64, used_memory: u64) -> CapsSample {
        CapsSample {
            jobs,
            used_memory,
            keys: 0,
            dead: 0,
            held: BTreeMap::new(),
        }
    }

    #[test]
    fn the_second_half_starts_at_the_first_sample_past_the_middle() {
        let samples = [
            sample(0, 10),
            sample(40, 500),
            sample(60, 900),
            sample(100, 2_000_000),
        ];
        // From 900 (the first sample at or after 50 jobs) to 2,000,000.
        assert_eq!(
            second_half_growth(&samples, 100),
            (1_999_100, FLAT_FLOOR_BYTES)
        );
    }

    #[test]
    fn the_allowance_grows_with_the_jobs_of_the_second_half() {
        // A run of 2,000,000 jobs: its second half starts at the sample
        // at 1,000,000, so 2,000,000 jobs of it follow (1 byte each).
        let samples = [sample(0, 0), sample(1_000_000, 5), sample(3_000_000, 0)];
        assert_eq!(second_half_growth(&samples, 2_000_000).1, 2_000_000);
    }
}
