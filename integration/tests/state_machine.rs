//! Chaos scenario 8: a model of the job states. Proptest drives random
//! sequences of enqueue / schedule / fetch / ack / fail / lease expiry /
//! reclaim / promote / hand-back / operator retry and delete / an idle
//! worker's ready watch (`BLMOVE` back onto the ready list) against a real
//! Redis through the public store and operator API, and after every step
//! checks DESIGN.md invariant 1 against the model: every accepted job that
//! has not succeeded (or been deleted) is in exactly one place — the one
//! the model says — and no other job is anywhere.
//!
//! Size: `JQ_CHAOS_MODEL_CASES` (sequences, CI 32), `JQ_CHAOS_MODEL_STEPS`
//! (most steps per sequence, CI 60).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jobqueue_core::JobSet;
use jobqueue_core::store::ready_watch::ReadyWatch;
use jobqueue_core::store::{BuryEntry, CompletionBatch, DeadLimits, RetryEntry};
use jobqueue_core::wire::record;
use jobqueue_integration::chaos::{Figures, param};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::locate::locate_jobs;
use jobqueue_integration::test_redis;
use jobqueue_testing::TestRedis;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const QUEUE: &str = "default";
const WORKERS: [&str; 2] = ["model-w0", "model-w1"];

/// One step of a sequence. `pick` chooses among the candidates of the
/// step's kind (modulo their number), so every step is meaningful.
#[derive(Debug, Clone)]
enum Step {
    Enqueue,
    Schedule,
    Fetch {
        worker: usize,
        max: usize,
    },
    Ack {
        pick: usize,
    },
    FailRetry {
        pick: usize,
    },
    FailDead {
        pick: usize,
    },
    LeaseExpires {
        worker: usize,
    },
    PromoteRetries,
    HandBack {
        worker: usize,
    },
    OperatorRetry {
        set: JobSet,
        pick: usize,
    },
    OperatorDelete {
        set: JobSet,
        pick: usize,
    },
    /// An idle worker's ready watch returns (or times out): nothing moves.
    WatchReady,
}

fn step() -> impl Strategy<Value = Step> {
    let worker = 0..WORKERS.len();
    let set = prop_oneof![
        Just(JobSet::Scheduled),
        Just(JobSet::Retry),
        Just(JobSet::Dead)
    ];
    prop_oneof![
        3 => Just(Step::Enqueue),
        1 => Just(Step::Schedule),
        4 => (worker.clone(), 1..4usize).prop_map(|(worker, max)| Step::Fetch { worker, max }),
        2 => any::<usize>().prop_map(|pick| Step::Ack { pick }),
        2 => any::<usize>().prop_map(|pick| Step::FailRetry { pick }),
        2 => any::<usize>().prop_map(|pick| Step::FailDead { pick }),
        1 => worker.clone().prop_map(|worker| Step::LeaseExpires { worker }),
        1 => Just(Step::PromoteRetries),
        1 => worker.prop_map(|worker| Step::HandBack { worker }),
        1 => (set.clone(), any::<usize>()).prop_map(|(set, pick)| Step::OperatorRetry { set, pick }),
        1 => (set, any::<usize>()).prop_map(|(set, pick)| Step::OperatorDelete { set, pick }),
        1 => Just(Step::WatchReady),
    ]
}

/// Where the model says a job is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Ready,
    Scheduled,
    Retry,
    Dead,
    /// Leased by a worker, with the record as fetched.
    Active(usize, Vec<u8>),
}

impl Place {
    /// The name `locate_jobs` reports for it.
    fn name(&self) -> &'static str {
        match self {
            Place::Ready => "ready",
            Place::Scheduled => "scheduled",
            Place::Retry => "retry",
            Place::Dead => "dead",
            Place::Active(..) => "active",
        }
    }

    fn in_set(&self, set: JobSet) -> bool {
        matches!(
            (self, set),
            (Place::Scheduled, JobSet::Scheduled)
                | (Place::Retry, JobSet::Retry)
                | (Place::Dead, JobSet::Dead)
        )
    }
}

/// The model: job id → place. Jobs that succeeded or were deleted are gone.
#[derive(Default)]
struct Model {
    jobs: HashMap<String, Place>,
    tag: u64,
}

impl Model {
    /// Ids in a place matching `filter`, sorted (a stable order to pick from).
    fn ids(&self, filter: impl Fn(&Place) -> bool) -> Vec<String> {
        let mut ids: Vec<String> = self
            .jobs
            .iter()
            .filter(|(_, place)| filter(place))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn pick(&self, pick: usize, filter: impl Fn(&Place) -> bool) -> Option<String> {
        let ids = self.ids(filter);
        (!ids.is_empty()).then(|| ids[pick % ids.len()].clone())
    }
}

async fn apply(env: &TestRedis, model: &mut Model, step: &Step) {
    let client = env.client();
    let store = client.store();
    let admin = env.client().admin();
    let q = store.queue_keys(QUEUE).unwrap();
    match step {
        Step::Enqueue | Step::Schedule => {
            model.tag += 1;
            let job = client.job(NoopJob { n: model.tag });
            let (job, place) = match step {
                Step::Schedule => (job.delay(Duration::from_secs(3600)), Place::Scheduled),
                _ => (job, Place::Ready),
            };
            let id = job.enqueue().await.unwrap();
            model.jobs.insert(id.to_string(), place);
        }
        Step::Fetch { worker, max } => {
            let wid = WORKERS[*worker];
            store
                .heartbeat(&q, wid, Duration::from_secs(600))
                .await
                .unwrap();
            let reply = store.fetch(&q, &q.active(wid), wid, *max).await.unwrap();
            for record in reply.records {
                let id = record::record_id(&record)
                    .expect("a valid record")
                    .to_string();
                let before = model
                    .jobs
                    .insert(id.clone(), Place::Active(*worker, record));
                assert_eq!(before, Some(Place::Ready), "{id} was fetched but not ready");
            }
        }
        Step::Ack { pick } | Step::FailRetry { pick } | Step::FailDead { pick } => {
            // The worker holding the picked job finishes it.
            let Some(id) = model.pick(*pick, |p| matches!(p, Place::Active(..))) else {
                return;
            };
            let Some(Place::Active(worker, record)) = model.jobs.get(&id).cloned() else {
                return;
            };
            let leased_id = id.as_bytes().to_vec();
            let mut batch = CompletionBatch::default();
            match step {
                Step::Ack { .. } => {
                    batch.acks.push(leased_id);
                    model.jobs.remove(&id);
                }
                Step::FailRetry { .. } => {
                    batch.retries.push(RetryEntry {
                        id: leased_id,
                        delay_ms: 0,
                        record,
                        failed: true,
                    });
                    model.jobs.insert(id, Place::Retry);
                }
                _ => {
                    batch.buries.push(BuryEntry {
                        leased_id,
                        dead_id: id.clone(),
                        record,
                    });
                    model.jobs.insert(id, Place::Dead);
                }
            }
            let wid = WORKERS[worker];
            let report = store
                .complete(&q, &q.active(wid), &batch, DeadLimits::default())
                .await
                .unwrap();
            assert_eq!(
                report.acked + report.retried + report.buried,
                1,
                "{report:?}"
            );
        }
        Step::LeaseExpires { worker } => {
            let wid = WORKERS[*worker];
            // A lease of 1 ms, then a little wait: the lease has truly lapsed.
            store
                .heartbeat(&q, wid, Duration::from_millis(1))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
            let lapsed = store.expired_leases(&q, 10).await.unwrap();
            assert!(lapsed.iter().any(|w| w == wid), "{lapsed:?}");
            let moved = store.reclaim(&q, wid).await.unwrap().expect("lapsed");
            let again = store.reclaim(&q, wid).await.unwrap();
            assert_eq!(again, Some(0), "a second reclaim finds nothing");
            let held: Vec<String> = model.ids(|p| matches!(p, Place::Active(w, _) if w == worker));
            assert_eq!(moved, held.len() as u64);
            for id in held {
                model.jobs.insert(id, Place::Ready);
            }
        }
        Step::PromoteRetries => {
            // Retries were filed with no delay: all are due now.
            store.promote(&q, 1000).await.unwrap();
            for id in model.ids(|p| *p == Place::Retry) {
                model.jobs.insert(id, Place::Ready);
            }
        }
        Step::HandBack { worker } => {
            let wid = WORKERS[*worker];
            let returned = store.handback(&q, wid, &[], true).await.unwrap();
            let held: Vec<String> = model.ids(|p| matches!(p, Place::Active(w, _) if w == worker));
            assert_eq!(returned, held.len() as u64);
            for id in held {
                model.jobs.insert(id, Place::Ready);
            }
        }
        Step::WatchReady => {
            let config = env.client_config();
            let mut watch = ReadyWatch::open(
                config.redis_url(),
                config.connection_settings(),
                Duration::from_millis(10),
            )
            .await
            .unwrap();
            let list = |conn: redis::aio::MultiplexedConnection| {
                let key = q.ready().to_owned();
                async move {
                    let mut conn = conn;
                    redis::cmd("LRANGE")
                        .arg(key)
                        .arg(0)
                        .arg(-1)
                        .query_async::<Vec<Vec<u8>>>(&mut conn)
                        .await
                        .unwrap()
                }
            };
            let conn = env.connection().await.unwrap();
            let before = list(conn.clone()).await;
            let head = watch.wait(&q).await.unwrap();
            assert_eq!(list(conn).await, before, "the watch moved the ready list");
            let ready = model.ids(|p| *p == Place::Ready);
            match head {
                // The head stays where it was: `check` finds it still ready.
                Some(record) => {
                    let id = record::record_id(&record)
                        .expect("a valid record")
                        .to_string();
                    assert!(
                        ready.contains(&id),
                        "the watch returned {id}, not a ready job"
                    );
                }
                None => assert!(ready.is_empty(), "the watch timed out over {ready:?}"),
            }
        }
        Step::OperatorRetry { set, pick } | Step::OperatorDelete { set, pick } => {
            let Some(id) = model.pick(*pick, |p| p.in_set(*set)) else {
                return;
            };
            let uuid = id.parse().unwrap();
            let changed = if matches!(step, Step::OperatorRetry { .. }) {
                model.jobs.insert(id, Place::Ready);
                admin.retry(QUEUE, *set, &[uuid]).await.unwrap()
            } else {
                model.jobs.remove(&id);
                admin.delete(QUEUE, *set, &[uuid]).await.unwrap()
            };
            assert_eq!(changed, 1);
        }
    }
}

/// Invariant 1, against the model.
async fn check(env: &TestRedis, model: &Model, step: &Step) {
    let found = locate_jobs(env, QUEUE).await;
    for (id, place) in &model.jobs {
        let places = found.get(id).cloned().unwrap_or_default();
        assert_eq!(
            places,
            vec![place.name().to_owned()],
            "after {step:?}: job {id} should be {} exactly once",
            place.name()
        );
    }
    for (id, places) in &found {
        assert!(
            model.jobs.contains_key(id),
            "after {step:?}: job {id} is in {places:?}, but it succeeded or was deleted"
        );
    }
}

#[test]
fn random_operation_sequences_keep_every_job_in_exactly_one_place() {
    let cases = param("model_cases", 32) as u32;
    let steps = param("model_steps", 60) as usize;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = proptest::collection::vec(step(), 1..steps);
    let checked = AtomicU64::new(0);
    let result = runner.run(&strategy, |sequence| {
        runtime.block_on(async {
            let env = test_redis("model").await;
            let mut model = Model::default();
            for step in &sequence {
                apply(&env, &mut model, step).await;
                check(&env, &model, step).await;
                checked.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    Figures::new("state_machine")
        .set("sequences", u64::from(cases))
        .set("max_steps", steps as u64)
        .set("steps_checked", checked.load(Ordering::Relaxed))
        .set("violations", 0u64)
        .publish();
}
