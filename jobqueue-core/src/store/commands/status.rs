//! A tracked job's status hash (`P:{Q}:status:<id>`): written by the
//! producer at enqueue, by the worker running the job and by the scripts
//! that hand it back or reclaim it; read by producers and the operator.
//! Always kept with a TTL.

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// One status write: job `id` of `queue` gets `fields` (and `updated_at`).
#[derive(Debug, Clone, Copy)]
pub struct StatusWrite<'a> {
    /// The job's queue.
    pub queue: &'a QueueKeys,
    /// The job id.
    pub id: &'a str,
    /// Fields to set.
    pub fields: &'a [(&'a str, &'a str)],
    /// The hash's TTL from now, ms.
    pub ttl_ms: u64,
}

impl Store {
    /// Sets `fields` (and `updated_at` = `now_ms`) in job `id`'s status
    /// hash and restarts its TTL (`ttl_ms`), in one round trip.
    pub async fn write_status(
        &self,
        queue: &QueueKeys,
        id: &str,
        now_ms: &str,
        fields: &[(&str, &str)],
        ttl_ms: u64,
    ) -> Result<(), Error> {
        let key = queue.status(id);
        let mut pipe = redis::pipe();
        pipe.cmd("HSET").arg(&key).arg("updated_at").arg(now_ms);
        for (field, value) in fields {
            pipe.arg(*field).arg(*value);
        }
        pipe.ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ttl_ms.max(1))
            .ignore();
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))
    }

    /// Like [`Store::write_status`], but only when job `id` has a status
    /// (a tracked job): an untracked job gets none.
    pub async fn update_status(
        &self,
        queue: &QueueKeys,
        id: &str,
        now_ms: &str,
        fields: &[(&str, &str)],
        ttl_ms: u64,
    ) -> Result<(), Error> {
        let exists: bool = redis::cmd("EXISTS")
            .arg(queue.status(id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))?;
        if !exists {
            return Ok(());
        }
        self.write_status(queue, id, now_ms, fields, ttl_ms).await
    }

    /// Gives new jobs their first status: each write's fields are set only
    /// where the hash lacks them (`HSETNX`), and its TTL only where it has
    /// none (`PEXPIRE … NX`), so the status of a job that already exists
    /// under the id is left as it is. One pipeline, sent before the jobs.
    pub async fn init_statuses(
        &self,
        writes: &[StatusWrite<'_>],
        now_ms: &str,
    ) -> Result<(), Error> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for write in writes {
            let key = write.queue.status(write.id);
            let stamp = [("updated_at", now_ms)];
            for (field, value) in write.fields.iter().chain(&stamp) {
                pipe.cmd("HSETNX")
                    .arg(&key)
                    .arg(*field)
                    .arg(*value)
                    .ignore();
            }
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(write.ttl_ms.max(1))
                .arg("NX")
                .ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))
    }

    /// Deletes job `id`'s status hash (a job that was not enqueued after all).
    pub async fn delete_status(&self, queue: &QueueKeys, id: &str) -> Result<(), Error> {
        redis::cmd("UNLINK")
            .arg(queue.status(id))
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))
    }

    /// Every field of job `id`'s status hash in `queue` (empty when it has none).
    pub async fn status_fields(
        &self,
        queue: &QueueKeys,
        id: &str,
    ) -> Result<HashMap<String, String>, Error> {
        redis::cmd("HGETALL")
            .arg(queue.status(id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))
    }

    /// Job `id`'s status hash, looked up in every registered queue in one
    /// pipeline: the queue holding it and its fields, or `None`.
    pub async fn find_status_fields(
        &self,
        id: &str,
    ) -> Result<Option<(String, HashMap<String, String>)>, Error> {
        let names = self.queue_names().await?;
        if names.is_empty() {
            return Ok(None);
        }
        let mut pipe = redis::pipe();
        for name in &names {
            pipe.cmd("HGETALL").arg(self.keys().queue(name)?.status(id));
        }
        let replies: Vec<HashMap<String, String>> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))?;
        Ok(names
            .into_iter()
            .zip(replies)
            .find(|(_, fields)| !fields.is_empty()))
    }
}
