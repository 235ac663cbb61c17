//! The worker's identity: unique per process start.

/// `host-pid-xxxxxxxx`: the host name (for people), the pid (to find the
/// process), and 8 random hex digits so that a restarted process — same
/// host, maybe the same pid in a container — never inherits the leases
/// of its predecessor.
pub(crate) fn new_worker_id() -> String {
    let host = host_name();
    let random = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!("{host}-{}-{random}", std::process::id())
}

/// The host name, restricted to characters safe inside key names.
pub(crate) fn host_name() -> String {
    let raw = gethostname::gethostname().to_string_lossy().into_owned();
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "host".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_key_safe() {
        let a = new_worker_id();
        let b = new_worker_id();
        assert_ne!(a, b);
        assert!(!a.contains('{') && !a.contains('}') && !a.contains(' '));
        assert!(a.contains(&std::process::id().to_string()));
    }
}
