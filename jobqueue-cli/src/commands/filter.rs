//! The `--type` / `--error` options of the commands that page through or
//! act on many jobs.

use clap::Args;

/// Options shared by commands that page through jobs.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only jobs of this type.
    #[arg(long = "type")]
    pub job_type: Option<String>,
    /// Only jobs whose last error contains this text (case-insensitive).
    #[arg(long)]
    pub error: Option<String>,
}

impl FilterArgs {
    /// As the operator API's filter.
    pub fn to_filter(&self) -> jobqueue_core::JobFilter {
        jobqueue_core::JobFilter {
            job_type: self.job_type.clone(),
            error_contains: self.error.clone(),
            fingerprint: None,
        }
    }
}
