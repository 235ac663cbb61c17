//! Where the sign-in page sends the browser afterwards: the `next`
//! parameter, accepted only as a path inside the dashboard, so a link to
//! the sign-in page cannot send a user elsewhere (no open redirect).

/// Longest accepted `next`.
const MAX_NEXT_LEN: usize = 2048;

/// `next` when it is a path inside the dashboard (relative to its base
/// path): it starts with one `/`, is printable ASCII without `\` (browsers
/// read `/\host` and a path with a tab or newline dropped as `//host`),
/// and is not the sign-in page itself. `None` otherwise.
pub(crate) fn safe_next(next: &str) -> Option<&str> {
    let ok = next.len() <= MAX_NEXT_LEN
        && next.starts_with('/')
        && !next.starts_with("//")
        && next
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'\\')
        && !next.starts_with("/login")
        && !next.starts_with("/logout");
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_inside_the_dashboard() {
        for good in [
            "/",
            "/queues",
            "/queues/default/jobs/dead?cursor=1-0",
            "/%2F%2Fx",
        ] {
            assert_eq!(safe_next(good), Some(good));
        }
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/login",
            "/login?next=/",
            "/logout",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3000))), None);
    }
}
