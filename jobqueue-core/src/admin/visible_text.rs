//! Characters a reader cannot see but that change what they read: control
//! characters (a newline in an audit entry forges a second line), Unicode
//! bidirectional controls (U+202E turns `gpj.exe` into `exe.jpg` on
//! screen) and invisible format characters. The audit log stores them
//! escaped, and the dashboard shows them escaped (see
//! `jobqueue-dashboard`'s pages).

use std::borrow::Cow;
use std::fmt::Write;

/// True for Unicode format characters that reorder or hide text: the
/// bidirectional marks, embeddings, overrides and isolates (U+061C,
/// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), zero-width and
/// invisible characters (U+00AD, U+180E, U+200B, U+2060–U+2064,
/// U+206A–U+206F, U+FEFF, U+FFF9–U+FFFB) and tag characters
/// (U+E0000–U+E007F). The zero-width joiner and non-joiner (U+200C,
/// U+200D) are left alone: emoji and several scripts need them.
pub fn is_invisible_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// True for a character [`escape_hidden`] writes as an escape: every
/// control character (C0, DEL, C1) except, when `keep_line_breaks`, the
/// newline, carriage return and tab, and every
/// [`is_invisible_format_char`].
pub fn is_hidden(c: char, keep_line_breaks: bool) -> bool {
    if keep_line_breaks && matches!(c, '\n' | '\r' | '\t') {
        return false;
    }
    c.is_control() || is_invisible_format_char(c)
}

/// `text` with every hidden character (see [`is_hidden`]) written as
/// `\u{XXXX}`, so it can neither forge a line nor reorder what follows.
///
/// ```
/// use jobqueue_core::admin::escape_hidden;
/// assert_eq!(escape_hidden("a\nb\u{202E}c", false), "a\\u{000A}b\\u{202E}c");
/// assert_eq!(escape_hidden("a\nb", true), "a\nb");
/// ```
pub fn escape_hidden(text: &str, keep_line_breaks: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_hidden(c, keep_line_breaks)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden(c, keep_line_breaks) {
            let _ = write!(out, "{}", escaped(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The escape of one character: `\u{202E}` (at least four hex digits).
pub fn escaped(c: char) -> String {
    format!("\\u{{{:04X}}}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_but_not_joiners() {
        assert_eq!(escape_hidden("plain text", false), "plain text");
        assert_eq!(
            escape_hidden("x\u{7}\u{2066}y\u{E0041}", false),
            "x\\u{0007}\\u{2066}y\\u{E0041}"
        );
        assert_eq!(escape_hidden("👨\u{200D}👩", false), "👨\u{200D}👩");
        assert_eq!(escape_hidden("a\r\n\tb", true), "a\r\n\tb");
        assert_eq!(escape_hidden("a\tb", false), "a\\u{0009}b");
    }
}
