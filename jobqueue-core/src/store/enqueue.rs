//! Enqueue transitions: `enqueue.lua`, `enqueue_priority.lua`, `schedule.lua`.

use redis::Value;

use super::scripts::{SCRIPTS, ScriptCall, invoke_pipelined};
use super::{Store, array_reply, int_reply};
use crate::error::Error;
use crate::keys::QueueKeys;

/// Most records sent in one script call (keeps Lua's `unpack` within limits).
pub(crate) const MAX_RECORDS_PER_CALL: usize = 1000;

/// When a scheduled job becomes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleAt {
    /// This many milliseconds after the Redis clock's now.
    In(u64),
    /// At this instant, milliseconds since the epoch (Redis clock).
    At(i64),
}

/// One batch of records bound for one queue and one script.
pub(crate) enum EnqueueCall<'a> {
    Ready(&'a QueueKeys, Vec<&'a [u8]>),
    Priority(&'a QueueKeys, Vec<&'a [u8]>),
    Scheduled(&'a QueueKeys, Vec<(&'a [u8], ScheduleAt)>),
}

impl EnqueueCall<'_> {
    fn script_call(&self) -> ScriptCall {
        match self {
            EnqueueCall::Ready(q, records) => {
                let mut call = SCRIPTS.enqueue.call(&[q.ready()]).arg(q.events());
                for record in records {
                    call.push_arg(*record);
                }
                call
            }
            EnqueueCall::Priority(q, records) => {
                let mut call = SCRIPTS
                    .enqueue_priority
                    .call(&[q.ready(), q.priority()])
                    .arg(q.events());
                for record in records {
                    call.push_arg(*record);
                }
                call
            }
            EnqueueCall::Scheduled(q, items) => {
                let mut call = SCRIPTS
                    .schedule
                    .call(&[q.scheduled(), q.jobs(), q.ready(), q.priority()])
                    .arg(q.events());
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
        }
    }
}

impl Store {
    /// Appends records to a queue's ready list (FIFO). Returns the new length.
    pub async fn enqueue_ready(&self, queue: &QueueKeys, record: &[u8]) -> Result<i64, Error> {
        let reply: Value = SCRIPTS
            .enqueue
            .call(&[queue.ready()])
            .arg(queue.events())
            .arg(record)
            .invoke(&mut self.conn.clone(), "enqueue")
            .await?;
        int_reply(&reply, "enqueue")
    }

    /// Adds a record with a non-zero priority to a queue's priority set.
    pub async fn enqueue_priority(&self, queue: &QueueKeys, record: &[u8]) -> Result<(), Error> {
        EnqueueCall::Priority(queue, vec![record])
            .script_call()
            .invoke::<Value>(&mut self.conn.clone(), "enqueue")
            .await
            .map(|_| ())
    }

    /// Schedules one record; it is made ready at once when already due.
    pub async fn schedule(
        &self,
        queue: &QueueKeys,
        record: &[u8],
        at: ScheduleAt,
    ) -> Result<(), Error> {
        let reply: Value = EnqueueCall::Scheduled(queue, vec![(record, at)])
            .script_call()
            .invoke(&mut self.conn.clone(), "schedule")
            .await?;
        array_reply(reply, "schedule").map(|_| ())
    }

    /// Sends many enqueue calls in one round trip.
    pub(crate) async fn enqueue_pipelined(&self, calls: &[EnqueueCall<'_>]) -> Result<(), Error> {
        let script_calls: Vec<ScriptCall> = calls.iter().map(EnqueueCall::script_call).collect();
        invoke_pipelined(&mut self.conn.clone(), &script_calls, "enqueue_bulk")
            .await
            .map(|_| ())
    }
}
