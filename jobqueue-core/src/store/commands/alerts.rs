//! Alert state besides its scripts (`alert_lease.lua`, `alert_fire.lua`):
//! a rule's status after each check and its last delivery, the error
//! fingerprints a `new_error` rule has seen, reading rule and sink state
//! back, and the one extra read a rule needs from a queue (dead jobs
//! since a time).

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// How long a rule's state hash outlives its last check, ms (a rule
/// removed from the configuration leaves nothing behind for longer).
const RULE_STATE_TTL_MS: u64 = 30 * 24 * 3600 * 1000;

impl Store {
    /// Records a check of `rule` at `now_ms`: `firing` when its condition
    /// held for `findings` fingerprints, else `ok`.
    pub async fn alert_rule_check(
        &self,
        rule: &str,
        firing: bool,
        findings: u64,
        now_ms: i64,
    ) -> Result<(), Error> {
        let key = self.keys.alert_rule(rule);
        redis::pipe()
            .hset_multiple(
                &key,
                &[
                    ("status", if firing { "firing" } else { "ok" }.to_owned()),
                    ("checked", now_ms.to_string()),
                    ("findings", findings.to_string()),
                ],
            )
            .ignore()
            .pexpire(&key, RULE_STATE_TTL_MS as i64)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("alert_rule_check"))
    }

    /// Records how the last delivery of `rule`'s firing went (`outcome`,
    /// a short text) at `now_ms`.
    pub async fn alert_delivery(
        &self,
        rule: &str,
        outcome: &str,
        now_ms: i64,
    ) -> Result<(), Error> {
        redis::cmd("HSET")
            .arg(self.keys.alert_rule(rule))
            .arg("last_delivery")
            .arg(outcome)
            .arg("delivered")
            .arg(now_ms)
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("alert_delivery"))
    }

    /// The state hashes of `rules` (empty for a rule never checked), in
    /// one round trip.
    pub async fn alert_rule_states(
        &self,
        rules: &[&str],
    ) -> Result<Vec<HashMap<String, String>>, Error> {
        self.hashes(
            rules.iter().map(|rule| self.keys.alert_rule(rule)),
            "alert_rule_states",
        )
        .await
    }

    /// The rate-limit hashes of `sinks`, in one round trip.
    pub async fn alert_sink_states(
        &self,
        sinks: &[&str],
    ) -> Result<Vec<HashMap<String, String>>, Error> {
        self.hashes(
            sinks.iter().map(|sink| self.keys.alert_sink(sink)),
            "alert_sink_states",
        )
        .await
    }

    async fn hashes(
        &self,
        keys: impl Iterator<Item = String>,
        op: &'static str,
    ) -> Result<Vec<HashMap<String, String>>, Error> {
        let mut pipe = redis::pipe();
        let mut any = false;
        for key in keys {
            pipe.hgetall(key);
            any = true;
        }
        if !any {
            return Ok(Vec::new());
        }
        pipe.query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(op))
    }

    /// The holder of the alert leader lease and its time left (ms), if
    /// anyone holds it.
    pub async fn alerts_leader(&self) -> Result<Option<(String, i64)>, Error> {
        let key = self.keys.alerts_leader();
        let (holder, ttl): (Option<String>, i64) = redis::pipe()
            .get(&key)
            .pttl(&key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("alerts_leader"))?;
        Ok(holder.map(|holder| (holder, ttl)))
    }

    /// Marks `rule`'s first look at the errors: true the first time only
    /// (that look records what exists without firing).
    pub async fn alert_first_look(&self, rule: &str) -> Result<bool, Error> {
        let set: u8 = redis::cmd("HSETNX")
            .arg(self.keys.alert_rule(rule))
            .arg("baseline")
            .arg(1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("alert_first_look"))?;
        Ok(set == 1)
    }

    /// Adds `fingerprints` to what `rule` has seen (seen at `now_ms`),
    /// keeping the newest `cap`; for each, whether it was new.
    pub async fn alert_seen_add(
        &self,
        rule: &str,
        fingerprints: &[String],
        now_ms: i64,
        cap: usize,
    ) -> Result<Vec<bool>, Error> {
        if fingerprints.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.keys.alert_seen_errors(rule);
        let mut pipe = redis::pipe();
        for fingerprint in fingerprints {
            // Counts only members that were not there (the score of a
            // known one is refreshed).
            pipe.zadd(&key, fingerprint, now_ms);
        }
        pipe.cmd("ZREMRANGEBYRANK")
            .arg(&key)
            .arg(0)
            .arg(-(cap as i64) - 1)
            .ignore()
            // A rule removed from the configuration leaves nothing behind
            // for long.
            .pexpire(&key, RULE_STATE_TTL_MS as i64)
            .ignore();
        let added: Vec<u64> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("alert_seen_add"))?;
        Ok(added.into_iter().map(|n| n > 0).collect())
    }

    /// Jobs of the dead sets of `queues` that died at or after
    /// `since_ms` (a dead set is scored by the time of death), in total:
    /// one `ZCOUNT` per queue, in one round trip.
    pub async fn dead_since(&self, queues: &[QueueKeys], since_ms: i64) -> Result<u64, Error> {
        if queues.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        for queue in queues {
            pipe.zcount(queue.dead(), since_ms, "+inf");
        }
        let counts: Vec<u64> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("dead_since"))?;
        Ok(counts.iter().sum())
    }
}
