//! Watching a running job: how long each poll holds its thread, and its
//! time limit.
//!
//! An async job that blocks (`std::thread::sleep`, blocking I/O, a long
//! computation) holds a thread of the application's runtime for the whole
//! poll: nothing else queued on that thread runs meanwhile, and no timer can
//! interrupt it. Each poll of a job is timed (two `Instant::now` calls per
//! poll, a few tens of ns, which also give the run time; the timer for the
//! limit is armed only once the job first waits), and a poll that holds the thread for [`BLOCKING_POLL`] or more is reported, so the
//! job type can be fixed with `tokio::task::spawn_blocking`.
//!
//! The time limit fires while the job waits (returns `Pending`), as
//! `tokio::time::timeout` does, with two differences that keep the report
//! honest about a job the limit could not stop:
//!
//! * a job that *returned* after its limit (its last poll held the thread
//!   past the deadline) finished: its own result is kept — success is a
//!   success, an error is handled as that error — and the caller reports
//!   the overrun;
//! * when the deadline passed while the job held the thread, the timer never
//!   had a chance to fire; the job gets one more window from the moment it
//!   let go (once), to finish the step it was on, instead of being cancelled
//!   at its very next await and run again. The window is its limit, or as
//!   long as it blocked if that is longer: the runtime it now waits on may
//!   be held as long by other jobs blocking beside it (two jobs blocking
//!   both threads for 6 s: the first to let go waits for the second).
//! * the same holds when the deadline passed while *another* job held the
//!   runtime and this one, woken, could not be polled (its timer could not
//!   fire either): a poll that comes [`BLOCKING_POLL`] or more after the
//!   deadline gets the window (once), as long as the hold-up if longer. A
//!   job starved by a blocking neighbour is not timed out and run again for
//!   the neighbour's fault; one that really waits too long still times out
//!   one window later.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

/// A poll holding the thread this long is reported as blocking.
pub(crate) const BLOCKING_POLL: Duration = Duration::from_millis(100);

/// Polls `job` until it returns, or until its time `limit` fires while it
/// waits (then `None`). Calls `blocked` with the time of each poll that
/// held the thread for [`BLOCKING_POLL`] or more. Also returns how long
/// the job ran.
pub(crate) async fn run<F: Future>(
    job: F,
    limit: Option<Duration>,
    mut blocked: impl FnMut(Duration),
) -> (Option<F::Output>, Duration) {
    let mut job = pin!(job);
    // Armed at the first poll that returns `Pending` (a job that finishes
    // in one poll, the common case, never touches the timer), for the
    // deadline counted from the first poll's start.
    let mut timer = pin!(None::<tokio::time::Sleep>);
    // (first poll's start, last poll's end): two clock reads for a job
    // that finishes in one poll, which are also its run time.
    let mut span: Option<(Instant, Instant)> = None;
    let mut extended = false;
    let output = std::future::poll_fn(|cx| {
        let poll_started = Instant::now();
        let polled = job.as_mut().poll(cx);
        let poll_ended = Instant::now();
        let started = span.map_or(poll_started, |(started, _)| started);
        span = Some((started, poll_ended));
        let held = poll_ended - poll_started;
        if held >= BLOCKING_POLL {
            blocked(held);
        }
        if let Poll::Ready(output) = polled {
            return Poll::Ready(Some(output));
        }
        let Some(limit) = limit else {
            return Poll::Pending;
        };
        let deadline = match timer.as_mut().as_pin_mut() {
            Some(armed) => armed.deadline().into_std(),
            None => started + limit,
        };
        // The deadline passed while the job held the thread, or while
        // something beside it held the runtime (this poll, which its timer
        // would have been served no sooner than, came a blocking poll's
        // length or more past the deadline).
        let held_up = if poll_started < deadline {
            (poll_ended >= deadline).then_some(held)
        } else {
            let late = poll_started - deadline;
            (late >= BLOCKING_POLL).then_some(late.max(held))
        };
        if let (false, Some(held_up)) = (extended, held_up) {
            extended = true;
            let again = poll_ended + limit.max(held_up);
            timer.set(Some(tokio::time::sleep_until(again.into())));
        } else if timer.is_none() {
            timer.set(Some(tokio::time::sleep_until(deadline.into())));
        }
        match timer.as_mut().as_pin_mut().map(|armed| armed.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    })
    .await;
    let ran = span.map_or(Duration::ZERO, |(started, ended)| ended - started);
    (output, ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_that_waits_past_its_limit_times_out() {
        let (output, ran) = run(
            tokio::time::sleep(Duration::from_secs(5)),
            Some(Duration::from_millis(50)),
            |_| {},
        )
        .await;
        assert!(output.is_none());
        assert!(ran < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_job_that_returns_after_blocking_past_its_limit_keeps_its_result() {
        let mut blocked = Vec::new();
        let job = async {
            std::thread::sleep(Duration::from_millis(300));
            7
        };
        let (output, ran) = run(job, Some(Duration::from_millis(50)), |held| {
            blocked.push(held);
        })
        .await;
        assert_eq!(output, Some(7));
        assert!(ran >= Duration::from_millis(300));
        assert_eq!(blocked.len(), 1);
        assert!(blocked[0] >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_job_that_blocked_past_its_deadline_may_finish_the_step_it_was_on() {
        let job = async {
            std::thread::sleep(Duration::from_millis(200));
            tokio::time::sleep(Duration::from_millis(20)).await;
            "done"
        };
        let (output, _) = run(job, Some(Duration::from_millis(100)), |_| {}).await;
        assert_eq!(output, Some("done"));
        // The step may wait as long as the job blocked (the runtime may be
        // held that long by another blocking job), even beyond its limit.
        let job = async {
            std::thread::sleep(Duration::from_millis(400));
            tokio::time::sleep(Duration::from_millis(250)).await;
            "waited"
        };
        let (output, _) = run(job, Some(Duration::from_millis(100)), |_| {}).await;
        assert_eq!(output, Some("waited"));
        // Only once: blocking past the second deadline too times it out.
        let job = async {
            std::thread::sleep(Duration::from_millis(200));
            tokio::task::yield_now().await;
            std::thread::sleep(Duration::from_millis(200));
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        };
        let (output, ran) = run(job, Some(Duration::from_millis(100)), |_| {}).await;
        assert_eq!(output, None);
        assert!(ran < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_job_a_neighbour_kept_from_its_thread_past_its_deadline_gets_its_window() {
        // The job waits (its timer armed), then a task beside it holds the
        // only runtime thread past the job's deadline: the job's wake-up and
        // its timer are both served late. Its limit could not be enforced on
        // time, and the job did not hold the thread: it gets one more window
        // to finish the step it was on, as a job that blocked itself does.
        let neighbour = tokio::spawn(async {
            std::thread::sleep(Duration::from_millis(300));
        });
        let job = async {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            "finished"
        };
        let (output, _) = run(job, Some(Duration::from_millis(100)), |_| {}).await;
        assert_eq!(output, Some("finished"));
        neighbour.await.unwrap();
        // Only once: starved past the second deadline too times it out.
        let job = async {
            tokio::task::yield_now().await;
            tokio::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        };
        let starve = tokio::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
        let (output, ran) = run(job, Some(Duration::from_millis(100)), |_| {}).await;
        assert_eq!(output, None);
        assert!(ran < Duration::from_secs(5));
        starve.await.unwrap();
    }

    #[tokio::test]
    async fn short_polls_are_not_reported() {
        let mut reported = 0;
        let (output, _) = run(
            async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                1
            },
            None,
            |_| reported += 1,
        )
        .await;
        assert_eq!((output, reported), (Some(1), 0));
    }
}
