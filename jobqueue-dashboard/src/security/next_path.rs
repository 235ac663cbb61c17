//! Where the sign-in page sends the browser afterwards: the `next`
//! parameter, accepted only as a path inside the dashboard, so a link to
//! the sign-in page cannot send a user elsewhere (no open redirect).

/// Longest accepted `next`.
const MAX_NEXT_LEN: usize = 2048;

/// `next` when it is a path inside the dashboard (relative to its base
/// path): it starts with one `/`, is printable ASCII without `\` (browsers
/// read `/\host` and a path with a tab or newline dropped as `//host`),
/// has no `.` or `..` segment (also as `%2e`: `/../x` would climb out of
/// the base path into the host app), and is not the sign-in page itself.
/// `None` otherwise.
pub(crate) fn safe_next(next: &str) -> Option<&str> {
    let ok = next.len() <= MAX_NEXT_LEN
        && next.starts_with('/')
        && !next.starts_with("//")
        && next
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'\\')
        && !next.starts_with("/login")
        && !next.starts_with("/logout")
        && !has_dot_segment(next);
    ok.then_some(next)
}

/// True when a segment of `next`'s path is `.` or `..`, written plainly or
/// percent-encoded (`%2e`, either case).
fn has_dot_segment(next: &str) -> bool {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
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
            "/queues/a..b",
            "/queues?next=/../x",
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
            "/../../account/delete?confirm=1",
            "/queues/../..",
            "/./x",
            "/%2e%2e/%2E%2E/x",
            "/.%2e/x",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3000))), None);
    }
}
