//! Exit codes that mean something to a script.

use std::process::ExitCode;

use jobqueue_core::ErrorKind;

/// A failed command: what to print and which exit code to return.
#[derive(Debug)]
pub struct CliError {
    /// Exit code: one of the `EXIT_*` constants.
    pub code: u8,
    /// Message for stderr.
    pub message: String,
}

/// General failure.
pub const EXIT_ERROR: u8 = 1;
/// Bad usage or argument (clap uses 2 too).
pub const EXIT_USAGE: u8 = 2;
/// The job or queue does not exist.
pub const EXIT_NOT_FOUND: u8 = 3;
/// Redis could not be reached.
pub const EXIT_UNAVAILABLE: u8 = 4;
/// Refused: unsafe configuration, or nothing matched.
pub const EXIT_REFUSED: u8 = 5;
/// Conflict with the current state: a node that did not fail, a workflow
/// retried by someone else meanwhile, a closed batch, an id taken.
pub const EXIT_CONFLICT: u8 = 6;

impl CliError {
    /// An error with `code`.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl From<jobqueue_core::Error> for CliError {
    fn from(err: jobqueue_core::Error) -> Self {
        let code = match err.kind() {
            ErrorKind::InvalidArgument => EXIT_USAGE,
            ErrorKind::NotFound => EXIT_NOT_FOUND,
            ErrorKind::Conflict => EXIT_CONFLICT,
            ErrorKind::Unavailable | ErrorKind::OutcomeUnknown => EXIT_UNAVAILABLE,
            _ => EXIT_ERROR,
        };
        Self::new(code, err.to_string())
    }
}

/// Result of a command.
pub type CliResult = Result<(), CliError>;
