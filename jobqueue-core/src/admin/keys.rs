//! Keyed flow control: limits per key taken from the job.
//!
//! A job may carry a **flow key** `class:value` (e.g. `account:42`, or
//! `type:send_email` for a limit per job type), set with
//! [`crate::JobBuilder::flow_key`] or the [`crate::Job::flow_key`] hook.
//! Keyed jobs wait FIFO in their key's list; `fetch_limited.lua` serves the
//! ready keys round-robin beside the plain ready list, each key within its
//! class's [`KeyLimits`] (running limit and token bucket, on the Redis
//! clock, across every worker). A key at its limit holds back only its own
//! jobs. Every transition out of a worker (ack, retry, bury, cancel,
//! expire, handback, reclaim) releases the job's key in the same script.
//! See docs/flow-control.md and `scripts/lib_flow.lua`.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use crate::admin::limits::RateLimit;
use crate::admin::{Admin, JobInfo, JobState, MAX_PAGE_SIZE};
use crate::error::Error;
use crate::store::Store;
use crate::store::keys::QueueKeys;

/// One `HSCAN` reply: the next cursor and field/value pairs.
type HashScanPage = (u64, Vec<(String, u64)>);

/// Longest flow key, in bytes.
pub const MAX_FLOW_KEY_LEN: usize = 200;

/// Checks a flow key: 1-200 bytes of printable ASCII (space included)
/// without `"` or `\` (the scripts read it from the envelope as is).
pub fn validate_flow_key(key: &str) -> Result<(), Error> {
    let valid = !key.is_empty()
        && key.len() <= MAX_FLOW_KEY_LEN
        && key
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "flow_key",
            format!(
                "flow key {key:?} must be 1-{MAX_FLOW_KEY_LEN} printable ASCII characters without '\"' or '\\\\'"
            ),
        ))
    }
}

/// Checks a key class: a valid flow key without `:` (the class of
/// `account:42` is `account`).
pub fn validate_key_class(class: &str) -> Result<(), Error> {
    validate_flow_key(class)?;
    if class.contains(':') {
        return Err(Error::invalid(
            "key_class",
            format!(
                "key class {class:?} must not contain ':' (the class of account:42 is account)"
            ),
        ));
    }
    Ok(())
}

/// The class of a flow key: the text before its first `:` (the whole key
/// when it has none). Limits are set per class.
pub fn key_class(key: &str) -> &str {
    key.split_once(':').map_or(key, |(class, _)| class)
}

/// Limits of every key of one class; `None` fields do not limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyLimits {
    /// Most jobs of one key leased (running) at once, across all workers;
    /// 1 serializes the key.
    pub max_running: Option<u32>,
    /// Most job starts of one key per period, across all workers.
    pub rate: Option<RateLimit>,
}

impl KeyLimits {
    /// The limits of a class nobody configured: one job of a key at a time.
    pub const DEFAULT: KeyLimits = KeyLimits {
        max_running: Some(1),
        rate: None,
    };

    /// The form stored in `P:{queue}:glimits`: `max:rate:per_ms`, 0 = none.
    fn encode(&self) -> String {
        let (limit, per_ms) = self.rate.map_or((0, 0), |rate| {
            (
                rate.limit,
                u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX),
            )
        });
        format!("{}:{limit}:{per_ms}", self.max_running.unwrap_or(0))
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(':').map(str::parse::<u64>);
        let (Some(Ok(max)), Some(Ok(limit)), Some(Ok(per_ms)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(KeyLimits {
            max_running: u32::try_from(max).ok().filter(|&m| m > 0),
            rate: match (u32::try_from(limit).ok(), per_ms) {
                (Some(limit), per_ms) if limit > 0 && per_ms > 0 => Some(RateLimit {
                    limit,
                    per: Duration::from_millis(per_ms),
                }),
                _ => None,
            },
        })
    }
}

impl Default for KeyLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One key class's configured limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassLimits {
    /// The class (`account` for keys `account:…`).
    pub class: String,
    /// Its limits.
    pub limits: KeyLimits,
}

/// One flow key with work, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowKeyInfo {
    /// The key.
    pub key: String,
    /// Its jobs waiting to run.
    pub waiting: u64,
    /// Its jobs leased by workers now.
    pub running: u64,
    /// The limits that apply to it (its class's, or the default).
    pub limits: KeyLimits,
}

impl Store {
    /// True when `queue` has had keyed jobs (workers then fetch it with
    /// `fetch_limited.lua`).
    pub async fn has_keyed_jobs(&self, queue: &QueueKeys) -> Result<bool, Error> {
        redis::cmd("EXISTS")
            .arg(queue.flow_marker())
            .query_async(&mut self.connection())
            .await
            .map_err(Error::redis("has_keyed_jobs"))
    }
}

impl Admin {
    /// Sets the limits of every key of `class` (`account` for keys
    /// `account:…`) on `queue`, replacing earlier ones. The scripts read
    /// them at every fetch, so they apply at once. Limits are per queue:
    /// all of a queue's keys live in its Redis Cluster slot. The bounds of
    /// [`Admin::set_queue_limits`] apply.
    pub async fn set_key_limits(
        &self,
        queue: &str,
        class: &str,
        limits: KeyLimits,
    ) -> Result<(), Error> {
        const OP: &str = "set_key_limits";
        validate_key_class(class)?;
        crate::admin::limits::validate_limits(
            OP,
            limits.max_running,
            limits.rate,
            "None: no running limit",
        )?;
        let keys = self.store().queue_keys(queue)?;
        self.store().register_queues([queue]).await?;
        redis::cmd("HSET")
            .arg(keys.flow_limits())
            .arg(class)
            .arg(limits.encode())
            .query_async::<()>(&mut self.store().connection())
            .await
            .map_err(Error::redis(OP))
    }

    /// Removes the limits of `class` on `queue`: its keys get
    /// [`KeyLimits::DEFAULT`] again. Returns false when the class had no
    /// limits set (nothing changed).
    pub async fn clear_key_limits(&self, queue: &str, class: &str) -> Result<bool, Error> {
        validate_key_class(class)?;
        let keys = self.store().queue_keys(queue)?;
        let removed: u64 = redis::cmd("HDEL")
            .arg(keys.flow_limits())
            .arg(class)
            .query_async(&mut self.store().connection())
            .await
            .map_err(Error::redis("clear_key_limits"))?;
        Ok(removed > 0)
    }

    /// The configured key classes of `queue` and their limits, by class.
    pub async fn key_limits(&self, queue: &str) -> Result<Vec<ClassLimits>, Error> {
        let keys = self.store().queue_keys(queue)?;
        let stored = self.stored_key_limits(&keys).await?;
        let mut out: Vec<ClassLimits> = stored
            .into_iter()
            .map(|(class, limits)| ClassLimits { class, limits })
            .collect();
        out.sort_by(|a, b| a.class.cmp(&b.class));
        Ok(out)
    }

    async fn stored_key_limits(
        &self,
        keys: &QueueKeys,
    ) -> Result<HashMap<String, KeyLimits>, Error> {
        let raw: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(keys.flow_limits())
            .query_async(&mut self.store().connection())
            .await
            .map_err(Error::redis("key_limits"))?;
        Ok(raw
            .into_iter()
            .filter_map(|(class, text)| KeyLimits::decode(&text).map(|limits| (class, limits)))
            .collect())
    }

    /// Flow keys of `queue` with work: the running ones and the ready or
    /// rate-parked ones, at most `limit` (up to 1000), each with its waiting
    /// and running counts and the limits that apply. Keys are listed
    /// running first, then ready ones in the order they will be served.
    pub async fn flow_keys(&self, queue: &str, limit: usize) -> Result<Vec<FlowKeyInfo>, Error> {
        const OP: &str = "flow_keys";
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let keys = self.store().queue_keys(queue)?;
        let (names, running) = self.flow_key_names(&keys, limit).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.store().connection();
        let mut pipe = redis::pipe();
        for key in &names {
            pipe.llen(keys.flow_list(key));
        }
        let waiting: Vec<u64> = pipe
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        let classes = self.stored_key_limits(&keys).await?;
        Ok(names
            .into_iter()
            .zip(waiting)
            .map(|(key, waiting)| FlowKeyInfo {
                running: running.get(&key).copied().unwrap_or(0),
                limits: classes
                    .get(key_class(&key))
                    .copied()
                    .unwrap_or(KeyLimits::DEFAULT),
                key,
                waiting,
            })
            .collect())
    }

    /// The flow keys of a queue with work, at most `limit` (1-1000): the
    /// running ones by name, then the ready or rate-parked ones in the
    /// order they will be served; and each running key's leased jobs.
    pub(crate) async fn flow_key_names(
        &self,
        keys: &QueueKeys,
        limit: usize,
    ) -> Result<(Vec<String>, HashMap<String, u64>), Error> {
        let (mut names, running) = self.flow_key_candidates(keys, limit).await?;
        names.truncate(limit.clamp(1, MAX_PAGE_SIZE));
        Ok((names, running))
    }

    /// [`Admin::flow_key_names`] before the cut to `limit`: up to `limit`
    /// running keys, then up to `limit` ready or rate-parked ones (a caller
    /// that drops keys with nothing waiting cuts after dropping).
    pub(crate) async fn flow_key_candidates(
        &self,
        keys: &QueueKeys,
        limit: usize,
    ) -> Result<(Vec<String>, HashMap<String, u64>), Error> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let (running_page, ready): (HashScanPage, Vec<String>) = redis::pipe()
            .cmd("HSCAN")
            .arg(keys.flow_running())
            .arg(0)
            .arg("COUNT")
            .arg(limit)
            .zrange(keys.flow_ready(), 0, (limit - 1) as isize)
            .query_async(&mut self.store().connection())
            .await
            .map_err(Error::redis("flow_keys"))?;
        let running: HashMap<String, u64> = running_page.1.into_iter().collect();
        let mut names: Vec<String> = running.keys().cloned().collect();
        names.sort();
        for key in ready {
            if !running.contains_key(&key) {
                names.push(key);
            }
        }
        Ok((names, running))
    }

    /// Deletes keyed jobs of `queue` that wait in their flow keys' lists;
    /// returns how many were deleted (leased or finished ones are skipped:
    /// cancel a running job instead).
    pub async fn delete_keyed(&self, queue: &str, ids: &[Uuid]) -> Result<u64, Error> {
        let keys = self.store().queue_keys(queue)?;
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut deleted = 0;
        for chunk in ids.chunks(MAX_PAGE_SIZE) {
            deleted += self.store().delete_keyed(&keys, chunk).await?;
        }
        Ok(deleted)
    }

    /// One page of the jobs waiting for flow key `key` on `queue`, in the
    /// order they will run (state [`JobState::Ready`]).
    pub async fn list_flow_key(
        &self,
        queue: &str,
        key: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobInfo>, Error> {
        const OP: &str = "list_flow_key";
        validate_flow_key(key)?;
        let keys = self.store().queue_keys(queue)?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let mut conn = self.store().connection();
        let ids: Vec<String> = redis::cmd("LRANGE")
            .arg(keys.flow_list(key))
            .arg(offset)
            .arg(offset + limit - 1)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let records: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(keys.jobs())
            .arg(&ids)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis(OP))?;
        Ok(records
            .iter()
            .flatten()
            .map(|record| JobInfo::from_record(queue, JobState::Ready, record, None))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_survive_their_stored_form() {
        for limits in [
            KeyLimits::DEFAULT,
            KeyLimits {
                max_running: None,
                rate: Some(RateLimit {
                    limit: 10,
                    per: Duration::from_secs(1),
                }),
            },
            KeyLimits {
                max_running: Some(3),
                rate: Some(RateLimit {
                    limit: 1,
                    per: Duration::from_millis(250),
                }),
            },
            KeyLimits {
                max_running: None,
                rate: None,
            },
        ] {
            assert_eq!(KeyLimits::decode(&limits.encode()), Some(limits));
        }
        assert_eq!(KeyLimits::decode("1:2"), None);
    }

    #[test]
    fn keys_and_classes() {
        assert_eq!(key_class("account:42"), "account");
        assert_eq!(key_class("type:send:email"), "type");
        assert_eq!(key_class("solo"), "solo");
        assert!(validate_flow_key("account:42").is_ok());
        assert!(validate_flow_key("").is_err());
        assert!(validate_flow_key("a\"b").is_err());
        assert!(validate_flow_key("a\\b").is_err());
        assert!(validate_flow_key("a\nb").is_err());
        assert!(validate_flow_key(&"k".repeat(MAX_FLOW_KEY_LEN + 1)).is_err());
        assert!(validate_key_class("account").is_ok());
        assert!(validate_key_class("account:42").is_err());
        assert!(validate_key_class("").is_err());
    }
}
