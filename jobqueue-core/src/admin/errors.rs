//! Dead jobs grouped by error fingerprint: "30,000 jobs died of one cause".
//!
//! Grouping reads the newest [`DEAD_GROUP_SAMPLE`] dead jobs (a bounded,
//! O(sample) read however large the dead set is) and scales the counts to
//! the whole set; when the set is no larger than the sample the counts are
//! exact. Acting on a group ("retry this group") is exact: it walks the
//! whole dead set in batches with [`Admin::apply_matching`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::admin::filter::job_fingerprint;
use crate::admin::handle::Admin;
use crate::admin::jobs::JobSet;
use crate::error::Error;

/// How many of the newest dead jobs the grouping reads.
pub const DEAD_GROUP_SAMPLE: usize = 2000;

/// Dead jobs that failed the same way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorGroup {
    /// The fingerprint: job type + normalised last error.
    pub fingerprint: String,
    /// The job type.
    pub job_type: String,
    /// The last error message of the newest job in the group.
    pub message: String,
    /// Jobs of the group among the sampled ones.
    pub sampled_count: u64,
    /// Jobs of the group in the whole dead set (exact when `exact` is set
    /// on [`ErrorGroups`], else scaled from the sample).
    pub estimated_count: u64,
    /// When the newest job of the group died.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub newest_at: Option<DateTime<Utc>>,
    /// The newest job of the group.
    pub example_id: Uuid,
}

/// The groups of one queue's dead set, largest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorGroups {
    /// The groups.
    pub groups: Vec<ErrorGroup>,
    /// Dead jobs read.
    pub sampled: u64,
    /// Dead jobs in the set.
    pub total: u64,
    /// True when every dead job was read, so the counts are exact.
    pub exact: bool,
}

impl Admin {
    /// Groups the newest dead jobs of `queue` by error fingerprint.
    pub async fn dead_groups(&self, queue: &str) -> Result<ErrorGroups, Error> {
        let q = self.store.queue_keys(queue)?;
        let mut by_fingerprint: HashMap<String, ErrorGroup> = HashMap::new();
        let mut sampled: u64 = 0;
        while (sampled as usize) < DEAD_GROUP_SAMPLE {
            let window = self
                .list_slots(&q, JobSet::Dead, sampled as usize, 500)
                .await?;
            if window.is_empty() {
                break;
            }
            sampled += window.len() as u64;
            for job in window.into_iter().flatten() {
                let fingerprint = job_fingerprint(&job);
                let group = by_fingerprint
                    .entry(fingerprint.clone())
                    .or_insert_with(|| ErrorGroup {
                        fingerprint,
                        job_type: job.job_type.clone().unwrap_or_else(|| "?".to_owned()),
                        message: job
                            .errors
                            .last()
                            .map(|e| e.message.clone())
                            .or_else(|| job.decode_error.clone())
                            .unwrap_or_default(),
                        sampled_count: 0,
                        estimated_count: 0,
                        newest_at: job.at,
                        example_id: job.id,
                    });
                group.sampled_count += 1;
            }
        }
        let total = self.store.set_size(q.dead()).await?;
        let exact = sampled >= total;
        let mut groups: Vec<ErrorGroup> = by_fingerprint
            .into_values()
            .map(|mut group| {
                group.estimated_count = if exact || sampled == 0 {
                    group.sampled_count
                } else {
                    // Scale by the unsampled share; rounding keeps small
                    // groups visible rather than at zero.
                    ((group.sampled_count as f64) * (total as f64) / (sampled as f64)).round()
                        as u64
                };
                group
            })
            .collect();
        groups.sort_by(|a, b| {
            b.sampled_count
                .cmp(&a.sampled_count)
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        Ok(ErrorGroups {
            groups,
            sampled,
            total,
            exact,
        })
    }
}
