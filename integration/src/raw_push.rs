//! A job pushed the way a producer in another language pushes it, or the
//! way Redis holds an enqueue whose wake-up was lost: one bare `RPUSH` of
//! the record onto the ready list, and no `r` published.

use jobqueue_core::Job;
use jobqueue_core::store::keys::QueueKeys;
use jobqueue_core::wire::record::{Envelope, encode_record};
use uuid::Uuid;

use crate::jobs::TestJob;

/// Pushes a record of `job`, under a fresh id, onto `queue`'s ready list
/// over `conn` (a plain or a cluster connection); returns the id.
///
/// # Panics
///
/// When the push does not reach Redis (a test helper: the test fails
/// there). A `TestJob` always encodes, so the two encoding `expect`s
/// cannot fire.
pub async fn push_without_wake_up<C: redis::aio::ConnectionLike>(
    conn: &mut C,
    queue: &QueueKeys,
    job: &TestJob,
) -> Uuid {
    let envelope = Envelope::new(TestJob::NAME);
    let payload = serde_json::to_vec(job).expect("a test job encodes");
    let record = encode_record(&envelope, &payload).expect("a test record encodes");
    let _: i64 = redis::cmd("RPUSH")
        .arg(queue.ready())
        .arg(record)
        .query_async(conn)
        .await
        .expect("the push reaches Redis");
    envelope.id
}
