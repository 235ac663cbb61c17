//! Asking for confirmation on the terminal before a destructive command
//! (`purge`); refused without a terminal unless `--yes` was given.

use std::io::{BufRead, IsTerminal, Write};

use super::exit::{CliError, CliResult, EXIT_REFUSED};

/// Asks `question` on the terminal and goes on only if the answer is
/// `expected`; refused when stdin is not a terminal (use `--yes`).
pub(crate) fn confirm(question: &str, expected: &str) -> CliResult {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            EXIT_REFUSED,
            "purge needs --yes when not run from a terminal",
        ));
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() != expected {
        return Err(CliError::new(EXIT_REFUSED, "not confirmed; nothing purged"));
    }
    Ok(())
}
