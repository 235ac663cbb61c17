//! The `jobqueue` binary (see the `jobqueue_cli` library).

fn main() -> std::process::ExitCode {
    jobqueue_cli::run()
}
