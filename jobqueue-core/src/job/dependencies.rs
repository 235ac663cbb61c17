//! Job chains and fan-in: a job that runs after other jobs ("parents")
//! succeed.
//!
//! A parent is enqueued with [`JobBuilder::with_dependents`]; a dependent
//! names its parents with [`JobBuilder::after`] or
//! [`JobBuilder::after_all`] and waits in its queue's *waiting for
//! parents* place (`P:{Q}:waiting`) until the last of them succeeded.
//! What a parent's death does to it is its [`OnParentFailure`] policy.
//! `docs/flow-control.md` describes the protocol.
//!
//! [`JobBuilder::with_dependents`]: crate::JobBuilder::with_dependents
//! [`JobBuilder::after`]: crate::JobBuilder::after
//! [`JobBuilder::after_all`]: crate::JobBuilder::after_all

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most parents one job may wait for.
pub const MAX_PARENTS: usize = 1000;

/// One parent of a dependent job: its id and its queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParentRef {
    /// The parent's job id.
    pub id: Uuid,
    /// The queue the parent runs on.
    pub queue: String,
}

/// What a dependent does when one of its parents dies (is dead-lettered
/// after its last attempt).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnParentFailure {
    /// The dependent never runs: it goes to its queue's dead set with the
    /// error `parent <id> (queue <q>) died`, where an operator can retry or
    /// delete it. The default.
    #[default]
    DeadLetter,
    /// A dead parent counts as finished: the dependent runs once every
    /// parent succeeded or died.
    Run,
    /// The dependent keeps waiting: it runs if an operator retries the dead
    /// parent and that run succeeds (or is deleted by an operator).
    Wait,
    /// The dependent is skipped: it never runs, leaves the waiting place
    /// (its dependency record says `skipped`), and its own dependents see
    /// it as not succeeded (their policies decide in turn). Workflows use
    /// it per edge.
    Skip,
}

impl OnParentFailure {
    /// Parses a name as [`OnParentFailure::as_str`] gives it.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::DeadLetter, Self::Run, Self::Wait, Self::Skip]
            .into_iter()
            .find(|policy| policy.as_str() == name)
    }

    /// The name the scripts and the JSON API use.
    pub fn as_str(self) -> &'static str {
        match self {
            OnParentFailure::DeadLetter => "dead_letter",
            OnParentFailure::Run => "run",
            OnParentFailure::Wait => "wait",
            OnParentFailure::Skip => "skip",
        }
    }
}

/// How a parent has ended, as far as its dependents know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParentState {
    /// Not finished yet (waiting, running or retrying).
    Pending,
    /// Succeeded.
    Succeeded,
    /// Died (dead-lettered); an operator may still retry it.
    Failed,
    /// Its dependency record is gone: it finished more than the dependency
    /// TTL ago, or was never enqueued with dependents.
    Unknown,
}

impl ParentState {
    /// Parses the state the scripts store (`pending`, `succeeded`,
    /// `failed`, `skipped`).
    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some("pending") => ParentState::Pending,
            Some("succeeded") => ParentState::Succeeded,
            // A skipped parent never succeeds: its dependents count it as failed.
            Some("failed") | Some("skipped") => ParentState::Failed,
            _ => ParentState::Unknown,
        }
    }
}
