//! Cron entries: one enqueue per tick across many scheduler processes, on
//! time, misfire policies, and the operator API (list, pause, resume, run
//! now, last result, remove).

use std::collections::HashSet;
use std::time::Duration;

use jobqueue_core::JobSet;
use jobqueue_core::cron::{CronEntry, CronOutcome, Misfire};
use jobqueue_core::wire::record::uuid_v7_millis;
use jobqueue_integration::probe::{ProbeJob, probe_starts};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use jobqueue_worker::Scheduler;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

fn probe_key(env: &TestRedis) -> String {
    format!("{}:probe", env.prefix())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tick_runs_once_on_time_whatever_the_number_of_schedulers() {
    let env = test_redis("cron-once").await;
    let key = probe_key(&env);
    let every_second = "* * * * * *";
    // Three worker processes and two in-process workers all register the
    // same entry and all race for every tick.
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.env.push((
        "JQ_CRON".into(),
        format!("every-second|{every_second}|{key}"),
    ));
    let processes: Vec<WorkerProcess> = (0..3)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    let entry = || {
        CronEntry::new(
            "every-second",
            every_second,
            &ProbeJob::new(env.url(), &key),
        )
        .unwrap()
    };
    let mut in_process = Vec::new();
    for _ in 0..2 {
        in_process.push(test_worker(&env).cron_entry(entry()).start().await.unwrap());
    }
    let started_at = chrono::Utc::now().timestamp_millis();
    tokio::time::sleep(Duration::from_secs(6)).await;
    for worker in in_process {
        worker.shutdown().await;
    }
    for process in processes {
        process.terminate();
        assert!(
            process.wait(Duration::from_secs(15)),
            "worker did not stop cleanly"
        );
    }
    let stopped_at = chrono::Utc::now().timestamp_millis();

    // About six seconds of ticks; shutdown may take a while.
    let most = (stopped_at - started_at) / 1000 + 3;
    assert_each_second_ran_once_on_time(env.url(), &key, 4, most).await;
}

/// Checks the probe runs of an every-second entry: each tick once, none
/// missing, on time, and between `fewest` and `most` of them.
async fn assert_each_second_ran_once_on_time(url: &str, key: &str, fewest: i64, most: i64) {
    let starts = probe_starts(url, key).await;
    let ids: HashSet<_> = starts.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), starts.len(), "a tick ran twice: {starts:?}");
    // The job id carries its tick: ticks are whole seconds, one per second,
    // consecutive (no tick lost between schedulers).
    let mut ticks: Vec<i64> = starts
        .iter()
        .map(|s| uuid_v7_millis(&s.id).expect("v7 id"))
        .collect();
    ticks.sort_unstable();
    assert!(ticks.iter().all(|t| t % 1000 == 0), "{ticks:?}");
    assert!(
        ticks.windows(2).all(|w| w[1] - w[0] == 1000),
        "ticks missing or repeated: {ticks:?}"
    );
    let count = ticks.len() as i64;
    assert!(
        (fewest..=most).contains(&count),
        "{count} ticks, expected {fewest}..={most}"
    );
    for start in &starts {
        let tick = uuid_v7_millis(&start.id).unwrap();
        let lateness = start.started_ms - tick;
        // Redis and the jobs share this host's clock.
        assert!(lateness >= 0, "a tick ran {} ms early", -lateness);
        assert!(lateness < 2000, "a tick ran {lateness} ms late");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_processes_enqueue_and_plain_workers_run() {
    let env = test_redis("cron-scheduler").await;
    let key = probe_key(&env);
    let entry = || CronEntry::new("beat", "* * * * * *", &ProbeJob::new(env.url(), &key)).unwrap();
    // Two schedulers race for every tick; a worker with no entries runs them.
    let worker = WorkerProcess::start(WORKER, &WorkerSpec::new(env.url(), env.prefix()));
    let mut schedulers = Vec::new();
    for _ in 0..2 {
        schedulers.push(
            Scheduler::builder(env.client())
                .cron_entry(entry())
                .start()
                .await
                .unwrap(),
        );
    }
    let started_at = chrono::Utc::now().timestamp_millis();
    tokio::time::sleep(Duration::from_secs(4)).await;
    for scheduler in schedulers {
        scheduler.shutdown().await;
    }
    // Ticks already enqueued (up to the lookahead) still run.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    worker.terminate();
    assert!(worker.wait(Duration::from_secs(15)));
    let stopped_at = chrono::Utc::now().timestamp_millis();
    let most = (stopped_at - started_at) / 1000 + 3;
    assert_each_second_ran_once_on_time(env.url(), &key, 2, most).await;
    // A scheduler without entries is a mistake, reported at start.
    assert!(Scheduler::builder(env.client()).start().await.is_err());
}

/// Hourly ticks in `(after, until]`, by arithmetic.
fn hourly_ticks(after: i64, until: i64) -> Vec<i64> {
    const HOUR: i64 = 3_600_000;
    let first = (after / HOUR + 1) * HOUR;
    (0..)
        .map(|n| first + n * HOUR)
        .take_while(|&t| t <= until)
        .collect()
}

async fn set_through(env: &TestRedis, queue: &str, name: &str, through: i64) {
    let mut conn = env.connection().await.unwrap();
    let _: i64 = redis::cmd("HSET")
        .arg(format!("{}:{{{queue}}}:cron:{name}", env.prefix()))
        .arg("through")
        .arg(through)
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// The stored record of a ready or scheduled job of `queue`.
async fn raw_record(env: &TestRedis, queue: &str, job: &jobqueue_core::JobInfo) -> Vec<u8> {
    let mut conn = env.connection().await.unwrap();
    let base = format!("{}:{{{queue}}}", env.prefix());
    let scheduled: Option<Vec<u8>> = redis::cmd("HGET")
        .arg(format!("{base}:jobs"))
        .arg(job.id.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    if let Some(record) = scheduled {
        return record;
    }
    let ready: Vec<Vec<u8>> = redis::cmd("LRANGE")
        .arg(format!("{base}:ready"))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    ready
        .into_iter()
        .find(|r| jobqueue_core::wire::record::record_id(r) == Some(job.id))
        .expect("the job's record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_missed_while_no_scheduler_ran_follow_the_misfire_policy() {
    let env = test_redis("cron-misfire").await;
    let client = env.client();
    let store = client.store();
    let key = probe_key(&env);
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(
            jobqueue_core::Client::with_config(env.client_config())
                .await
                .unwrap(),
        );
    }
    let policies = [
        ("skip", Misfire::Skip, 0usize),
        ("once", Misfire::RunOnce, 1),
        ("all", Misfire::RunAll { max: 3 }, 3),
    ];
    for (name, policy, kept) in policies {
        let entry = CronEntry::new(name, "0 0 * * * *", &ProbeJob::new(env.url(), &key))
            .unwrap()
            .queue(name)
            .unwrap()
            .misfire(policy);
        entry.register(store).await.unwrap();
        // As if the schedulers stopped five and a half hours ago.
        let now = store.redis_time_ms().await.unwrap();
        let through = now - 5 * 3_600_000 - 1_800_000;
        set_through(&env, name, name, through).await;
        // Several schedulers (separate connections) make the pass at once.
        let mut passes = Vec::new();
        for client in &clients {
            let (entry, store) = (entry.clone(), client.store().clone());
            passes.push(tokio::spawn(async move { entry.run_pass(&store).await }));
        }
        let (mut enqueued, mut skipped) = (0, 0);
        for pass in passes {
            let pass = pass.await.unwrap().unwrap();
            enqueued += pass.enqueued as usize;
            skipped += pass.skipped as usize;
        }

        let now = store.redis_time_ms().await.unwrap();
        let grace_start = now - jobqueue_core::cron::MISFIRE_GRACE_MS;
        let missed = hourly_ticks(through, grace_start);
        let on_time = hourly_ticks(grace_start, now + jobqueue_core::cron::LOOKAHEAD_MS);
        assert!(missed.len() >= 5, "{missed:?}");
        let expected: Vec<i64> = missed[missed.len() - kept..]
            .iter()
            .chain(&on_time)
            .copied()
            .collect();
        assert_eq!(enqueued, expected.len(), "{name}");
        assert_eq!(skipped, missed.len() - kept, "{name}");

        let admin = env.client().admin();
        // Past ticks are ready; a tick inside the lookahead is scheduled.
        let mut enqueued = admin.list_ready(name, 0, 100).await.unwrap();
        enqueued.extend(admin.list(name, JobSet::Scheduled, 0, 100).await.unwrap());
        let mut enqueued_ticks: Vec<i64> = enqueued
            .iter()
            .map(|job| uuid_v7_millis(&job.id).unwrap())
            .collect();
        enqueued_ticks.sort_unstable();
        assert_eq!(
            enqueued_ticks, expected,
            "{name}: the latest missed ticks run"
        );

        // Under Skip, runs of on-time ticks expire after the grace (an
        // outage turns them into skipped misfires instead of late runs).
        for job in &enqueued {
            let raw = raw_record(&env, name, job).await;
            let (envelope, _) = jobqueue_core::wire::record::decode_record(&raw).unwrap();
            let tick = uuid_v7_millis(&job.id).unwrap();
            let expected_expiry = (on_time.contains(&tick) && policy == Misfire::Skip)
                .then_some(tick + jobqueue_core::cron::MISFIRE_GRACE_MS);
            assert_eq!(envelope.expires_at, expected_expiry, "{name} tick {tick}");
        }

        // A second pass (another process) finds nothing left to do.
        let again = entry.run_pass(store).await.unwrap();
        assert_eq!(again.enqueued, 0, "{name}");
        let info = admin.cron_entry(name, name).await.unwrap().unwrap();
        assert_eq!(info.skipped as usize, missed.len() - kept);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_list_pause_resume_run_now_and_see_results() {
    let env = test_redis("cron-admin").await;
    let key = probe_key(&env);
    let admin = env.client().admin();
    let failing = ProbeJob {
        fail: Some("upstream said no".into()),
        ..ProbeJob::new(env.url(), &format!("{key}:failing"))
    };
    let worker = test_worker(&env)
        .cron_entry(
            CronEntry::new("beat", "* * * * * *", &ProbeJob::new(env.url(), &key))
                .unwrap()
                .time_zone("Europe/Berlin")
                .unwrap(),
        )
        .cron_entry(CronEntry::new("failing", "0 0 0 1 1 *", &failing).unwrap())
        .start()
        .await
        .unwrap();

    // Listed with schedule, next run and, once a run finished, its result.
    assert!(
        eventually(Duration::from_secs(10), || async {
            let entries = admin.cron_entries().await.unwrap();
            entries.iter().any(|e| {
                e.name == "beat"
                    && e.last_result.as_ref().map(|r| r.outcome) == Some(CronOutcome::Succeeded)
            })
        })
        .await,
        "no successful result recorded"
    );
    let entries = admin.cron_entries().await.unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["beat", "failing"]);
    let beat = &entries[0];
    assert_eq!(
        (
            beat.schedule.as_str(),
            beat.time_zone.as_str(),
            beat.job_type.as_str()
        ),
        ("* * * * * *", "Europe/Berlin", "probe_job")
    );
    assert!(beat.next_run.is_some() && beat.paused_at.is_none());
    assert!(beat.last_enqueued_id.is_some());
    let yearly = &entries[1];
    assert_eq!(
        yearly
            .next_run
            .map(|t| t.format("%m-%d %H:%M:%S").to_string()),
        Some("01-01 00:00:00".to_owned())
    );

    // Pause: at most the ticks already inside the lookahead still run.
    admin.pause_cron("default", "beat").await.unwrap();
    let paused = admin.cron_entry("default", "beat").await.unwrap().unwrap();
    assert!(paused.paused_at.is_some() && paused.next_run.is_none());
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let before = probe_starts(env.url(), &key).await.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        probe_starts(env.url(), &key).await.len(),
        before,
        "a paused entry ran"
    );

    // Resume: runs again; the ticks that fell while paused are not run.
    admin.resume_cron("default", "beat").await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            probe_starts(env.url(), &key).await.len() > before
        })
        .await,
        "no run after resume"
    );
    let resumed_ticks: Vec<i64> = probe_starts(env.url(), &key).await[before..]
        .iter()
        .map(|s| uuid_v7_millis(&s.id).unwrap())
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        resumed_ticks.iter().all(|&t| t > now - 5000),
        "a tick from the pause ran after resume: {resumed_ticks:?} (now {now})"
    );

    // Run now: an extra run of the yearly entry, whose result (a failure
    // that will be retried, then dead) shows with its error.
    let id = admin.run_cron_now("default", "failing").await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin
                .cron_entry("default", "failing")
                .await
                .unwrap()
                .and_then(|e| e.last_result)
                .is_some_and(|r| r.job_id == id && r.outcome == CronOutcome::Dead)
        })
        .await,
        "the run-now job's death was not recorded"
    );
    let failing_info = admin
        .cron_entry("default", "failing")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failing_info.last_enqueued_id, Some(id));
    let result = failing_info.last_result.unwrap();
    assert!(
        result
            .error
            .as_deref()
            .unwrap_or("")
            .contains("upstream said no"),
        "{result:?}"
    );
    assert_eq!(
        probe_starts(env.url(), &format!("{key}:failing"))
            .await
            .len(),
        2
    );

    worker.shutdown().await;
    // Unknown entries are reported as such, not silently ignored.
    let missing = admin.pause_cron("default", "nope").await.unwrap_err();
    assert_eq!(missing.kind(), jobqueue_core::ErrorKind::NotFound);
    assert!(admin.run_cron_now("default", "nope").await.is_err());
    assert!(admin.resume_cron("default", "nope").await.is_err());
    assert!(admin.remove_cron("default", "beat").await.unwrap());
    let left: Vec<String> = admin
        .cron_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(left, ["failing"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_cron_entry_stops_the_worker_from_starting() {
    let env = test_redis("cron-invalid").await;
    let err = test_worker(&env)
        .cron("not a schedule", ProbeJob::new(env.url(), "x"))
        .start()
        .await
        .err()
        .expect("start must fail");
    assert!(err.to_string().contains("not a schedule"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_the_job_type_of_its_cron_entry_without_registering_it() {
    let env = test_redis("cron-registers").await;
    let key = probe_key(&env);
    // Only `.cron(..)`: no `.register::<ProbeJob>()`.
    let worker = env
        .worker()
        .idle_poll_interval(Duration::from_millis(250))
        .cron("* * * * * *", ProbeJob::new(env.url(), &key))
        .start()
        .await
        .expect("the worker starts");
    let ran = eventually(Duration::from_secs(5), || async {
        !probe_starts(env.url(), &key).await.is_empty()
    })
    .await;
    worker.shutdown().await;
    assert!(ran, "the tick's job ran on the worker that scheduled it");
    let dead = env
        .client()
        .admin()
        .list("default", JobSet::Dead, 0, 10)
        .await;
    assert!(dead.expect("the dead set").is_empty());
}
