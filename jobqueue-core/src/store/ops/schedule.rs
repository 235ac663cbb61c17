//! `schedule.lua`: enqueue jobs that run later (delayed or at a set time).

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::array_reply;
use crate::store::reply::refused_id;
use crate::store::scripts::{Call, SCRIPTS};

/// When a scheduled job becomes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleAt {
    /// This many milliseconds after the Redis clock's now.
    In(u64),
    /// At this instant, milliseconds since the epoch (Redis clock).
    At(i64),
}

/// One `schedule.lua` call for `items`: each record with when it runs.
pub(crate) fn schedule_call(queue: &QueueKeys, items: &[(&[u8], ScheduleAt)]) -> Call {
    let mut call = SCRIPTS
        .schedule
        .call(&[
            queue.scheduled(),
            queue.jobs(),
            queue.ready(),
            queue.priority(),
        ])
        .arg(queue.events());
    for (record, at) in items {
        call.push_arg(*record);
        match at {
            ScheduleAt::In(ms) => {
                call.push_arg("in");
                call.push_arg(*ms);
            }
            ScheduleAt::At(ms) => {
                call.push_arg("at");
                call.push_arg(*ms);
            }
        }
    }
    call
}

impl Store {
    /// Schedules one record; it is made ready at once when already due.
    pub async fn schedule(
        &self,
        queue: &QueueKeys,
        record: &[u8],
        at: ScheduleAt,
    ) -> Result<(), Error> {
        let reply: Value = schedule_call(queue, &[(record, at)])
            .invoke(&mut self.conn.clone(), "schedule")
            .await
            .map_err(|err| refused_id(err, |_| Some(queue.name().to_owned())))?;
        array_reply(reply, "schedule").map(|_| ())
    }
}
