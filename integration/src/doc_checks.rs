//! The Rust snippets of the README and of docs/testing.md compile and run
//! (`cargo test --doc -p jobqueue-integration`), so the front door and the
//! testing guide never show an API that does not exist.

/// The README.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The testing guide.
#[doc = include_str!("../../docs/testing.md")]
#[cfg(doctest)]
pub struct TestingGuideDoctests;
