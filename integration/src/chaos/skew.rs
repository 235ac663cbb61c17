//! Running a worker process with a skewed wall clock, through libfaketime
//! (`LD_PRELOAD`): every local time reading in the process — `SystemTime`,
//! `chrono::Utc::now` — is off by the offset, as on a host whose NTP is
//! broken. The monotonic clock (timers, `Instant`) is left alone, as a
//! skewed host's would be.

/// Environment variable naming libfaketime, if not in a standard place.
pub const ENV_LIBFAKETIME: &str = "JQ_LIBFAKETIME";

/// Where Debian's `faketime` package puts the library.
const LIBFAKETIME_PATHS: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
];

/// The libfaketime library; panics with how to install it when missing.
pub fn libfaketime() -> String {
    if let Ok(path) = std::env::var(ENV_LIBFAKETIME) {
        return path;
    }
    LIBFAKETIME_PATHS
        .iter()
        .find(|path| std::path::Path::new(path).exists())
        .map(|path| (*path).to_owned())
        .unwrap_or_else(|| {
            panic!(
                "libfaketime not found: install it (Debian: apt-get install faketime; \
                 scripts/test does) or name it in {ENV_LIBFAKETIME}"
            )
        })
}

/// Environment variables that shift a process's wall clock by
/// `offset_minutes` (negative: behind).
pub fn skewed_clock_env(offset_minutes: i64) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".to_owned(), libfaketime()),
        ("FAKETIME".to_owned(), format!("{offset_minutes:+}m")),
        ("FAKETIME_DONT_FAKE_MONOTONIC".to_owned(), "1".to_owned()),
        ("FAKETIME_NO_CACHE".to_owned(), "1".to_owned()),
    ]
}
