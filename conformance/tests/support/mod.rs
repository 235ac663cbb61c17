//! What the suite's tests share: the adapters, with this package's Rust
//! adapter binary as `rust`.

use jobqueue_conformance::adapters::{Discovery, discover};

/// The adapters found (ADAPTER.md, "Finding adapters").
pub fn adapters() -> Discovery {
    discover(std::path::Path::new(env!(
        "CARGO_BIN_EXE_jobqueue-conformance-rust"
    )))
}
