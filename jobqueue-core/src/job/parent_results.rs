//! Results that flow between jobs: a dependent reads what its parents left
//! with [`JobContext::set_result`] ([`JobContext::parent_result`],
//! [`JobContext::parent_results`]).
//!
//! A parent enqueued with dependents keeps its result in its dependency
//! record `P:{Q}:parent:<id>`, field `result` (the JSON as the job gave
//! it), written by `ack_parents.lua` in the same step that records its
//! success, and kept as long as the record: 30 days after the parent's end,
//! whatever the status retention. `docs/protocol.md` describes the field
//! for other languages.

use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::Error;
use crate::job::context::JobContext;
use crate::job::dependencies::{ParentRef, ParentState};

const OP: &str = "parent_result";

/// What one parent left for its dependent: see [`JobContext::parent_results`].
#[derive(Debug, Clone, PartialEq)]
pub struct ParentOutput<T> {
    /// The parent's job id.
    pub id: Uuid,
    /// The parent's queue.
    pub queue: String,
    /// How the parent ended: [`ParentState::Succeeded`], or
    /// [`ParentState::Failed`] for a parent that died (or was skipped or
    /// cancelled) when the dependent runs anyway under the `run` policy;
    /// [`ParentState::Unknown`] once its record expired.
    pub state: ParentState,
    /// Its result; `None` when it left none or did not succeed.
    pub result: Option<T>,
}

impl<S> JobContext<S> {
    /// The result parent `id` left ([`JobContext::set_result`]), decoded as
    /// `T`. `Ok(None)` when the parent succeeded without leaving a result,
    /// or did not succeed (a parent that died, under the
    /// [`crate::OnParentFailure::Run`] policy, has no result). Fails with
    /// [`Error::InvalidArgument`] when `id` is not one of this job's
    /// parents, and [`Error::Decode`] when the result is not a `T`.
    pub async fn parent_result<T: DeserializeOwned>(&self, id: Uuid) -> Result<Option<T>, Error> {
        let Some(parent) = self.parents().iter().find(|parent| parent.id == id) else {
            return Err(Error::invalid(
                OP,
                format!("job {id} is not a parent of job {}", self.id()),
            ));
        };
        let mut outputs = self.read_outputs(std::slice::from_ref(parent)).await?;
        Ok(outputs.pop().and_then(|output| output.result))
    }

    /// What every parent left (fan-in), in the order the producer named
    /// them: each parent's state and its result decoded as `T`. Empty for
    /// a job without parents.
    pub async fn parent_results<T: DeserializeOwned>(&self) -> Result<Vec<ParentOutput<T>>, Error> {
        let parents = self.parents().to_vec();
        self.read_outputs(&parents).await
    }

    async fn read_outputs<T: DeserializeOwned>(
        &self,
        parents: &[ParentRef],
    ) -> Result<Vec<ParentOutput<T>>, Error> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let Some(status) = self.run_status() else {
            return Err(Error::invalid(
                OP,
                "this context has no store: results are read by jobs run by a worker",
            ));
        };
        let store = status.store();
        let keys = parents
            .iter()
            .map(|parent| {
                Ok(store
                    .queue_keys(&parent.queue)?
                    .parent(&parent.id.to_string()))
            })
            .collect::<Result<Vec<String>, Error>>()?;
        let stored = store.parent_outputs(&keys).await?;
        parents
            .iter()
            .zip(stored)
            .map(|(parent, (state, json))| {
                let state = match ParentState::parse(state.as_deref()) {
                    ParentState::Pending => ParentState::Failed,
                    other => other,
                };
                let result = match (state, json) {
                    (ParentState::Succeeded, Some(json)) => {
                        Some(serde_json::from_str(&json).map_err(|e| Error::Decode {
                            op: OP,
                            message: format!("result of parent {}: {e}", parent.id),
                        })?)
                    }
                    _ => None,
                };
                Ok(ParentOutput {
                    id: parent.id,
                    queue: parent.queue.clone(),
                    state,
                    result,
                })
            })
            .collect()
    }
}
