//! Every Rust code block of `README.md` and `docs/*.md` as a doctest:
//! `cargo test -p jobqueue-doc-snippets --doc` compiles each one (and runs
//! those that need no Redis), so a guide cannot show an API that does not
//! exist. `build.rs` finds the guides and wraps each snippet in the hidden
//! setup its guide gives in an HTML comment (see there for the syntax).

#[cfg(doctest)]
include!(concat!(env!("OUT_DIR"), "/guides.rs"));
