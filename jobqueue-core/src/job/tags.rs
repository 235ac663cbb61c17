//! Tags a job may carry (`customer:4711`, `import:2026-11`): what a valid
//! tag list is. The tags are written in the job's envelope and indexed per
//! queue by the enqueue scripts (`lua/include/tags.lua`), so an operator
//! finds every job of a customer with one index look-up (see
//! `admin::search` and docs/search-logs-events.md).

use crate::error::Error;

/// Most tags on one job: every tag is one index entry per job, written in
/// the enqueue script, so the count bounds the cost of an enqueue.
pub const MAX_TAGS: usize = 8;

/// Longest tag, in bytes (UTF-8).
pub const MAX_TAG_LEN: usize = 64;

/// Checks a job's tags and returns them without repeats, in the order
/// given: at most [`MAX_TAGS`] distinct tags of 1-[`MAX_TAG_LEN`] bytes,
/// without control characters (a tag is shown in the dashboard and typed
/// into a search box). Any other character is allowed; the dashboard
/// escapes it.
pub fn validate_tags(tags: &[String]) -> Result<Vec<String>, Error> {
    let mut distinct: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        validate_tag(tag)?;
        if !distinct.contains(tag) {
            distinct.push(tag.clone());
        }
    }
    if distinct.len() > MAX_TAGS {
        return Err(Error::invalid(
            "tags",
            format!(
                "a job has at most {MAX_TAGS} tags, this one has {}",
                distinct.len()
            ),
        ));
    }
    Ok(distinct)
}

/// Checks one tag (also the tag of a search): 1-[`MAX_TAG_LEN`] bytes, no
/// control characters.
pub fn validate_tag(tag: &str) -> Result<(), Error> {
    if tag.is_empty() || tag.len() > MAX_TAG_LEN {
        return Err(Error::invalid(
            "tags",
            format!(
                "tag {tag:?} must be 1-{MAX_TAG_LEN} bytes long, it has {}",
                tag.len()
            ),
        ));
    }
    if tag.chars().any(char::is_control) {
        return Err(Error::invalid(
            "tags",
            format!("tag {tag:?} must not contain control characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn owned(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn valid_tags_keep_their_order_without_repeats() {
        let tags = validate_tags(&owned(&[
            "customer:4711",
            "import:2026-11",
            "customer:4711",
        ]));
        assert_eq!(tags.ok(), Some(owned(&["customer:4711", "import:2026-11"])));
        let hostile = validate_tags(&owned(&["<script>alert(1)</script>", "é\"'&"]));
        assert_eq!(hostile.map(|t| t.len()).ok(), Some(2));
    }

    #[test]
    fn bad_tags_are_refused_with_a_reason() {
        let too_long = "x".repeat(MAX_TAG_LEN + 1);
        let many: Vec<String> = (0..=MAX_TAGS).map(|n| format!("t{n}")).collect();
        for (tags, reason) in [
            (owned(&[""]), "bytes long"),
            (vec![too_long], "bytes long"),
            (owned(&["line\nbreak"]), "control characters"),
            (many, "at most"),
        ] {
            let err = validate_tags(&tags).err();
            assert_eq!(
                err.as_ref().map(Error::kind),
                Some(ErrorKind::InvalidArgument)
            );
            let text = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains(reason), "{text}");
        }
        assert!(
            validate_tags(&owned(&["a"; 20])).is_ok(),
            "repeats count once"
        );
    }
}
