//! `enqueue_priority.lua`: make new jobs with a priority ready to run.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::{Call, SCRIPTS};

/// One `enqueue_priority.lua` call for `records` (each with a non-zero
/// priority in its envelope).
pub(crate) fn enqueue_priority_call(queue: &QueueKeys, records: &[&[u8]]) -> Call {
    let mut call = SCRIPTS
        .enqueue_priority
        .call(&[queue.ready(), queue.priority()])
        .arg(queue.events());
    for record in records {
        call.push_arg(*record);
    }
    call
}

impl Store {
    /// Adds a record with a non-zero priority to a queue's priority set.
    pub async fn enqueue_priority(&self, queue: &QueueKeys, record: &[u8]) -> Result<(), Error> {
        enqueue_priority_call(queue, &[record])
            .invoke::<Value>(&mut self.conn.clone(), "enqueue")
            .await
            .map(|_| ())
    }
}
