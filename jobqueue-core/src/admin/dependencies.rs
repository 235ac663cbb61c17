//! A job's place in a chain: its parents with their states, and its
//! children.

use serde::Serialize;
use uuid::Uuid;

use crate::admin::handle::Admin;
use crate::admin::jobs::{JobInfo, JobSet};
use crate::error::Error;
use crate::job::dependencies::{OnParentFailure, ParentState};
use crate::store::commands::dependencies::DependencyRecords;

/// One parent of a job and how it has ended, as far as the job knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentStatus {
    /// The parent's id.
    pub id: Uuid,
    /// The parent's queue.
    pub queue: String,
    /// Its state.
    pub state: ParentState,
    /// This parent's own failure policy (a workflow edge's), when it has
    /// one; `None`: the job's [`JobDependencies::on_parent_failure`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<OnParentFailure>,
}

/// One child (dependent) of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildRef {
    /// The child's id.
    pub id: Uuid,
    /// The child's queue.
    pub queue: String,
}

/// A job's parents and children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct JobDependencies {
    /// The parents it waits (or waited) for, in the order given.
    pub parents: Vec<ParentStatus>,
    /// How many of them succeeded.
    pub parents_succeeded: usize,
    /// What a parent's death does to it (jobs with parents only).
    pub on_parent_failure: Option<OnParentFailure>,
    /// The jobs waiting (or that waited) for it, while its dependency
    /// record lives (until 30 days after it finished).
    pub children: Vec<ChildRef>,
}

impl JobDependencies {
    /// True when the job has neither parents nor children.
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty() && self.children.is_empty()
    }
}

impl Admin {
    /// The parents (with their states) and children of `job`: one
    /// pipelined read, O(parents + children).
    pub async fn dependencies(&self, job: &JobInfo) -> Result<JobDependencies, Error> {
        if job.after.is_empty() && !job.dependents {
            return Ok(JobDependencies::default());
        }
        let q = self.store.queue_keys(&job.queue)?;
        let id = job.id.to_string();
        let parent_hashes = job
            .after
            .iter()
            .map(|parent| {
                Ok(self
                    .store
                    .queue_keys(&parent.queue)?
                    .parent(&parent.id.to_string()))
            })
            .collect::<Result<Vec<String>, Error>>()?;
        let DependencyRecords {
            deps: known,
            children: child_fields,
            parent_states,
        } = self
            .store
            .dependency_records(&q, &id, &parent_hashes)
            .await?;
        let parents: Vec<ParentStatus> = job
            .after
            .iter()
            .zip(parent_states)
            .map(|(parent, from_parent)| {
                let from_job = known.get(&format!("p:{}", parent.id)).map(String::as_str);
                ParentStatus {
                    id: parent.id,
                    queue: parent.queue.clone(),
                    state: ParentState::parse(from_job.or(from_parent.as_deref())),
                    policy: known
                        .get(&format!("e:{}", parent.id))
                        .and_then(|name| OnParentFailure::parse(name)),
                }
            })
            .collect();
        let children = child_fields
            .iter()
            .filter_map(|field| {
                let (queue, id) = field.strip_prefix("c|")?.rsplit_once('|')?;
                Some(ChildRef {
                    id: id.parse().ok()?,
                    queue: queue.to_owned(),
                })
            })
            .collect();
        Ok(JobDependencies {
            parents_succeeded: parents
                .iter()
                .filter(|p| p.state == ParentState::Succeeded)
                .count(),
            parents,
            on_parent_failure: job.on_parent_failure,
            children,
        })
    }

    /// Drops the dependency state of jobs an operator took out of the
    /// waiting-for-parents place (deleted, or run now).
    pub(super) async fn forget_dependencies(
        &self,
        q: &crate::store::keys::QueueKeys,
        set: JobSet,
        ids: &[String],
    ) -> Result<(), Error> {
        if set != JobSet::Waiting || ids.is_empty() {
            return Ok(());
        }
        self.store.delete_dependency_records(q, ids).await
    }
}
