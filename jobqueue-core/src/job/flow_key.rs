//! Flow keys a job may carry (`class:value`, e.g. `account:42`): what a
//! valid key and key class are. Keyed flow control itself is enforced by
//! the scripts (see `admin::keys` and docs/flow-control.md).

use crate::error::Error;

/// Longest flow key, in bytes.
pub const MAX_FLOW_KEY_LEN: usize = 200;

/// Checks a flow key: 1-200 bytes of printable ASCII (space included)
/// without `"` or `\` (the scripts read it from the envelope as is).
pub fn validate_flow_key(key: &str) -> Result<(), Error> {
    let valid = !key.is_empty()
        && key.len() <= MAX_FLOW_KEY_LEN
        && key
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "flow_key",
            format!(
                "flow key {key:?} must be 1-{MAX_FLOW_KEY_LEN} printable ASCII characters without '\"' or '\\\\'"
            ),
        ))
    }
}

/// Checks a key class: a valid flow key without `:` (the class of
/// `account:42` is `account`).
pub fn validate_key_class(class: &str) -> Result<(), Error> {
    validate_flow_key(class)?;
    if class.contains(':') {
        return Err(Error::invalid(
            "key_class",
            format!(
                "key class {class:?} must not contain ':' (the class of account:42 is account)"
            ),
        ));
    }
    Ok(())
}

/// The class of a flow key: the text before its first `:` (the whole key
/// when it has none). Limits are set per class.
pub fn key_class(key: &str) -> &str {
    key.split_once(':').map_or(key, |(class, _)| class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_classes() {
        assert_eq!(key_class("account:42"), "account");
        assert_eq!(key_class("type:send:email"), "type");
        assert_eq!(key_class("solo"), "solo");
        assert!(validate_flow_key("account:42").is_ok());
        assert!(validate_flow_key("").is_err());
        assert!(validate_flow_key("a\"b").is_err());
        assert!(validate_flow_key("a\\b").is_err());
        assert!(validate_flow_key("a\nb").is_err());
        assert!(validate_flow_key(&"k".repeat(MAX_FLOW_KEY_LEN + 1)).is_err());
        assert!(validate_key_class("account").is_ok());
        assert!(validate_key_class("account:42").is_err());
        assert!(validate_key_class("").is_err());
    }
}
