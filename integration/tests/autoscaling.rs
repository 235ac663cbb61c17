//! The autoscaling signal (issue 18 point 1) over time against real
//! Redis: a simulation of a queue with a burst, a trickle and delayed jobs
//! under a fake clock, whose series of desired workers is printed and
//! asserted (and quoted in docs/deployment.md); the pace per slot of real
//! workers, measured; cron ticks within the lead time.

use std::time::Duration;

use chrono::TimeZone;
use jobqueue_core::admin::scaling::{Autoscaler, ScalingConfig};
use jobqueue_core::{Job, JobContext, JobError};
use jobqueue_integration::jobs::MailJob;
use jobqueue_integration::test_redis;
use jobqueue_testing::TestRedis;
use serde::{Deserialize, Serialize};

/// The simulation's targets: start every ready job within 10 s, wake a
/// lead time of 30 s before jobs come due, workers of 5 slots, 0 to 4 of
/// them, jobs of half a second (2 per slot-second), throughput measured
/// over 30 s.
const SIMULATION_TARGETS: &str = "* latency_target=10 lead_time=30 concurrency=5 min=0 max=4 \
                                  default_throughput=2 window=30";

/// Simulated seconds per step.
const STEP_S: u64 = 5;
/// Steps simulated (4 minutes).
const STEPS: u64 = 48;
/// Jobs of the burst at t = 0.
const BURST: u64 = 600;
/// Steps that get one trickle job each (t = 30 s to 90 s).
const TRICKLE_STEPS: std::ops::Range<u64> = 6..18;
/// Step at which the delayed jobs are enqueued (t = 120 s), due 60 s later.
const DELAYED_AT_STEP: u64 = 24;
const DELAYED: u64 = 50;
const DELAYED_IN_S: i64 = 60;

/// One step of the series.
#[derive(Debug, Clone)]
struct Point {
    t_s: f64,
    ready: u64,
    scheduled_due: u64,
    jobs_per_second: f64,
    desired: u32,
    ran: usize,
}

/// The simulated clock: the Redis clock plus the test's offset, which
/// [`TestRedis::advance`] moves (making due jobs ready as it goes).
async fn sim_now_ms(env: &TestRedis) -> i64 {
    let redis_ms = env.client().store().redis_time_ms().await.unwrap();
    redis_ms + i64::try_from(env.clock_offset().as_millis()).unwrap()
}

/// Runs the simulation: each step reads the signal at the simulated time,
/// lets this step's arrivals in, then lets a fleet of exactly the desired
/// workers run what it can in the step (desired × concurrency × pace ×
/// step jobs, run for real by an inline worker: acknowledged, counted),
/// then moves the clock on.
async fn simulate(env: &TestRedis) -> (Vec<Point>, f64) {
    let config = ScalingConfig::parse(SIMULATION_TARGETS).unwrap();
    let targets = config.targets("mail").clone();
    let autoscaler = Autoscaler::new(config);
    let admin = env.client().admin();
    let client = env.client();
    let fleet = env
        .worker()
        .register::<MailJob>()
        .queues(["mail"])
        .allow_unserved_queues()
        .inline()
        .await
        .unwrap();
    let start_ms = sim_now_ms(env).await;
    let mut delayed_due_s = 0.0;
    let mut series = Vec::new();
    for step in 0..STEPS {
        let now_ms = sim_now_ms(env).await;
        let t_s = (now_ms - start_ms) as f64 / 1000.0;
        if step == 0 {
            client
                .enqueue_bulk((0..BURST).map(|n| MailJob { n }))
                .await
                .unwrap();
        }
        let signals = autoscaler.signals_at(&admin, now_ms).await.unwrap();
        let mail = signals.iter().find(|s| s.queue == "mail").unwrap();
        // Arrivals during the step, after the reading.
        if TRICKLE_STEPS.contains(&step) {
            client.enqueue(MailJob { n: 10_000 + step }).await.unwrap();
        }
        if step == DELAYED_AT_STEP {
            let due_ms = now_ms + DELAYED_IN_S * 1000;
            delayed_due_s = (due_ms - start_ms) as f64 / 1000.0;
            let due = chrono::Utc.timestamp_millis_opt(due_ms).unwrap();
            for n in 0..DELAYED {
                client
                    .job(MailJob { n: 20_000 + n })
                    .run_at(due)
                    .enqueue()
                    .await
                    .unwrap();
            }
        }
        let capacity = f64::from(mail.signal.desired_workers)
            * f64::from(targets.worker_concurrency)
            * targets.default_jobs_per_slot_second
            * STEP_S as f64;
        let ran = if capacity >= 1.0 {
            fleet.run_ready(capacity as usize).await.unwrap().len()
        } else {
            0
        };
        series.push(Point {
            t_s,
            ready: mail.inputs.ready,
            scheduled_due: mail.inputs.scheduled_due,
            jobs_per_second: mail.inputs.jobs_per_second,
            desired: mail.signal.desired_workers,
            ran,
        });
        env.advance(Duration::from_secs(STEP_S)).await.unwrap();
    }
    fleet.close().await;
    (series, delayed_due_s)
}

fn print_series(series: &[Point], delayed_due_s: f64) {
    println!(
        "autoscaling simulation ({SIMULATION_TARGETS}); delayed jobs due at t={delayed_due_s:.1}s"
    );
    println!(
        "{:>7} {:>6} {:>9} {:>7} {:>8} {:>5}",
        "t(s)", "ready", "due_soon", "jobs/s", "desired", "ran"
    );
    for p in series {
        println!(
            "{:>7.1} {:>6} {:>9} {:>7.2} {:>8} {:>5}",
            p.t_s, p.ready, p.scheduled_due, p.jobs_per_second, p.desired, p.ran
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulation_burst_trickle_and_delayed_jobs_scale_early_and_to_zero() {
    let env = test_redis("autoscaling-sim").await;
    let (series, delayed_due_s) = simulate(&env).await;
    print_series(&series, delayed_due_s);
    let at_step = |step: u64| &series[usize::try_from(step).unwrap()];

    // The burst asks for the most workers at once, and keeps them while
    // its backlog lasts.
    assert_eq!(at_step(0).ready, BURST);
    assert_eq!(at_step(0).desired, 4);
    for p in series.iter().filter(|p| p.t_s < 30.0 && p.ready > 0) {
        assert_eq!(p.desired, 4, "backlog left at {p:?}");
    }
    // After the burst the measured pace lets the fleet shrink, not vanish,
    // while the trickle lasts: every trickle job runs within its step.
    for step in TRICKLE_STEPS.start + 1..TRICKLE_STEPS.end + 1 {
        let p = at_step(step);
        assert!(p.desired >= 1, "trickle without a worker at {p:?}");
        assert!(p.ready <= 1, "trickle backlog at {p:?}");
    }
    assert!(
        at_step(TRICKLE_STEPS.start + 2).desired < 4,
        "never scaled in after the burst"
    );
    // Idle: down to zero once the trickle is out of the window, before
    // the delayed jobs are enqueued and until they are in sight.
    let after_delayed = &series[usize::try_from(DELAYED_AT_STEP).unwrap()..];
    let rise_at = after_delayed
        .iter()
        .position(|p| p.desired > 0)
        .expect("the signal rose for the delayed jobs");
    assert!(rise_at >= 2, "{after_delayed:?}");
    for p in &after_delayed[..rise_at] {
        assert_eq!((p.desired, p.ready), (0, 0), "not idle at {p:?}");
    }
    // Scale from zero: the signal rises while nothing is ready, a lead
    // time (30 s, to within one 5 s step) before the delayed jobs come
    // due, and stays up until they have run.
    let rise = &after_delayed[rise_at];
    assert_eq!(rise.ready, 0);
    assert_eq!(rise.scheduled_due, DELAYED);
    let early_s = delayed_due_s - rise.t_s;
    assert!(
        early_s > 30.0 - STEP_S as f64 && early_s <= 30.0,
        "rose {early_s:.1}s before due"
    );
    for p in series
        .iter()
        .filter(|p| p.t_s >= rise.t_s && p.t_s <= delayed_due_s + 5.0)
    {
        assert!(p.desired >= 1, "no worker around the due time: {p:?}");
    }
    // Every job ran, and the queue ends idle at zero workers.
    let ran: usize = series.iter().map(|p| p.ran).sum();
    let trickle = TRICKLE_STEPS.end - TRICKLE_STEPS.start;
    assert_eq!(ran as u64, BURST + trickle + DELAYED);
    let last = series.last().unwrap();
    assert_eq!(
        (last.desired, last.ready, last.scheduled_due),
        (0, 0, 0),
        "{last:?}"
    );
    env.cleanup().await.unwrap();
}

/// A job of 200 ms: 5 jobs per slot-second.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Paced {
    n: u64,
}

impl Job for Paced {
    const NAME: &'static str = "paced";
    const QUEUE: &'static str = "paced";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pace_of_real_workers_is_measured_per_slot() {
    let env = test_redis("autoscaling-pace").await;
    env.client()
        .enqueue_bulk((0..80).map(|n| Paced { n }))
        .await
        .unwrap();
    // Two workers of 2 slots each: 4 slots of 5 jobs/s, 20 jobs/s in all.
    let start = || {
        env.worker()
            .register::<Paced>()
            .concurrency(2)
            .prefetch(jobqueue_worker::Prefetch::Fixed(0))
            .start()
    };
    let workers = [start().await.unwrap(), start().await.unwrap()];
    // A default far from the truth, so a measured pace shows.
    let autoscaler =
        Autoscaler::new(ScalingConfig::parse("* default_throughput=100 window=60").unwrap());
    let admin = env.client().admin();
    let mut last = None;
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let signals = autoscaler.signals(&admin).await.unwrap();
        last = signals.into_iter().find(|s| s.queue == "paced");
    }
    for worker in workers {
        worker.shutdown().await;
    }
    let paced = last.expect("a signal for the queue");
    println!(
        "measured: {:.2} jobs/s, {:?} jobs per slot-second (200 ms jobs: 5)",
        paced.inputs.jobs_per_second, paced.inputs.measured_jobs_per_slot_second
    );
    let per_slot = paced
        .inputs
        .measured_jobs_per_slot_second
        .expect("a pace measured over 3 s of 4 busy slots");
    assert!(paced.signal.measured);
    assert_eq!(paced.signal.jobs_per_slot_second, per_slot);
    assert!(
        (2.0..=5.5).contains(&per_slot),
        "{per_slot} jobs per slot-second"
    );
    assert!(
        (8.0..=21.0).contains(&paced.inputs.jobs_per_second),
        "{} jobs/s",
        paced.inputs.jobs_per_second
    );
    env.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_tick_within_the_lead_time_wakes_a_worker_unless_paused() {
    let env = test_redis("autoscaling-cron").await;
    let admin = env.client().admin();
    let worker = env
        .worker()
        .register::<MailJob>()
        .cron_entry(
            jobqueue_core::cron::CronEntry::new("new-year", "0 0 0 1 1 *", &MailJob { n: 0 })
                .unwrap(),
        )
        .start()
        .await
        .unwrap();
    assert!(
        jobqueue_testing::eventually(Duration::from_secs(10), || async {
            admin.cron_entries().await.unwrap().len() == 1
        })
        .await
    );
    worker.shutdown().await;
    let next_ms = admin.cron_entries().await.unwrap()[0]
        .next_run
        .unwrap()
        .timestamp_millis();
    let autoscaler = Autoscaler::new(ScalingConfig::parse("* lead_time=120").unwrap());
    let cron_due_at = |at_ms: i64| {
        let (autoscaler, admin) = (&autoscaler, &admin);
        async move {
            let signals = autoscaler.signals_at(admin, at_ms).await.unwrap();
            let mail = signals.into_iter().find(|s| s.queue == "mail").unwrap();
            (mail.inputs.cron_due, mail.signal.desired_workers)
        }
    };
    // 60 s before the tick it is within the 120 s lead time; 200 s before, not.
    assert_eq!(cron_due_at(next_ms - 60_000).await, (1, 1));
    assert_eq!(cron_due_at(next_ms - 200_000).await, (0, 0));
    admin.pause_cron("mail", "new-year").await.unwrap();
    assert_eq!(cron_due_at(next_ms - 60_000).await.0, 0);
    env.cleanup().await.unwrap();
}
