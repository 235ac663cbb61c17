//! `alert_fire.lua`: deduplicate an alert firing and rate-limit it per
//! sink.
//!
//! Called by the operator API ([`crate::Admin::alert_fire`]) for each
//! finding of the leading alert evaluator, and for test firings.

use redis::Value;
use sha2::{Digest, Sha256};

use crate::client::idempotency::lower_hex;
use crate::error::Error;
use crate::store::handle::Store;
use crate::store::scripts::SCRIPTS;

/// How long a sink's rate-limit hash is kept after its last firing, ms.
const SINK_STATE_TTL_MS: u64 = 24 * 3600 * 1000;

/// What `alert_fire.lua` decided for one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkDecision {
    /// Within the sink's per-minute limit: send it.
    pub send: bool,
    /// Firings the sink suppressed since its last sent one (to report).
    pub suppressed_before: u64,
}

impl Store {
    /// Lets `rule` fire for `fingerprint` unless it did within
    /// `cooldown_ms` (0: never deduplicated); then one decision per sink
    /// of `sinks` (name, most firings per minute), in order. `None` when
    /// deduplicated.
    pub async fn alert_fire(
        &self,
        rule: &str,
        fingerprint: &str,
        message: &str,
        cooldown_ms: u64,
        sinks: &[(&str, u32)],
    ) -> Result<Option<Vec<SinkDecision>>, Error> {
        let digest = Sha256::new()
            .chain_update(rule.as_bytes())
            .chain_update([0])
            .chain_update(fingerprint.as_bytes())
            .finalize();
        let mut keys = vec![
            self.keys.alert_rule(rule),
            self.keys.alert_dedup(&lower_hex(&digest)),
        ];
        keys.extend(sinks.iter().map(|(name, _)| self.keys.alert_sink(name)));
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut call = SCRIPTS
            .alert_fire
            .call(&key_refs)
            .arg(cooldown_ms)
            .arg(fingerprint)
            .arg(message)
            .arg(SINK_STATE_TTL_MS);
        for (_, per_minute) in sinks {
            call.push_arg(*per_minute);
        }
        let reply: Vec<Value> = call.invoke(&mut self.conn.clone(), "alert_fire").await?;
        let malformed = || Error::Decode {
            op: "alert_fire",
            message: "unexpected reply from alert_fire.lua".to_owned(),
        };
        let number = |value: &Value| match value {
            Value::Int(n) => u64::try_from(*n).map_err(|_| malformed()),
            _ => Err(malformed()),
        };
        match reply.split_first() {
            Some((word, _)) if is_word(word, "deduped") => Ok(None),
            Some((word, pairs)) if is_word(word, "fired") && pairs.len() == 2 * sinks.len() => {
                pairs
                    .chunks(2)
                    .map(|pair| {
                        Ok(SinkDecision {
                            send: number(&pair[0])? == 1,
                            suppressed_before: number(&pair[1])?,
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()
                    .map(Some)
            }
            _ => Err(malformed()),
        }
    }
}

/// Whether a script's status reply is `word`.
fn is_word(value: &Value, word: &str) -> bool {
    match value {
        Value::BulkString(bytes) => bytes.as_slice() == word.as_bytes(),
        Value::SimpleString(text) => text == word,
        _ => false,
    }
}
