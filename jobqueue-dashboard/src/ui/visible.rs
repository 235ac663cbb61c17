//! Text shown so that nothing in it acts on the page: maud escapes markup,
//! and [`Visible`] also shows the characters a reader cannot see but that
//! change what they read — Unicode bidirectional controls (U+202E shows
//! `gpj.exe` as `exe.jpg`), invisible format characters and control
//! characters — as a visible, styled escape (`\u{202E}`) instead of
//! applying them. [`escape_hidden_in_page`] is the safety net for text a
//! page shows without [`Visible`] (in attributes, too).

use std::fmt::Write;

use jobqueue_core::admin::{escape_hidden, escaped, is_hidden};
use maud::{Escaper, Render};

/// Job data, error messages, names: rendered escaped, hidden characters
/// shown as `<span class="hidden-char">\u{202E}</span>`. Line breaks and
/// tabs stay (payloads and stack traces are shown in `<pre>`).
pub(crate) struct Visible<'a>(pub(crate) &'a str);

impl Render for Visible<'_> {
    fn render_to(&self, buffer: &mut String) {
        let mut rest = self.0;
        while let Some((at, hidden)) = rest.char_indices().find(|(_, c)| is_hidden(*c, true)) {
            let _ = Escaper::new(buffer).write_str(&rest[..at]);
            let code = escaped(hidden);
            let _ = write!(
                buffer,
                "<span class=\"hidden-char\" title=\"hidden character U+{:04X}\">{code}</span>",
                u32::from(hidden)
            );
            rest = &rest[at + hidden.len_utf8()..];
        }
        let _ = Escaper::new(buffer).write_str(rest);
    }
}

/// A rendered page with every hidden character left in it written as its
/// plain-text escape (`\u{202E}`). The characters are never part of
/// markup syntax, so this is safe in text and attribute values alike.
pub(crate) fn escape_hidden_in_page(html: String) -> String {
    match escape_hidden(&html, true) {
        std::borrow::Cow::Borrowed(_) => html,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_become_visible_escapes() {
        let shown = Visible("<b>\u{202E}gpj.exe\n").render().into_string();
        assert_eq!(
            shown,
            "&lt;b&gt;<span class=\"hidden-char\" title=\"hidden character U+202E\">\\u{202E}</span>gpj.exe\n"
        );
        assert_eq!(
            escape_hidden_in_page("<p title=\"a\u{2066}\">b\u{200F}</p>".to_owned()),
            "<p title=\"a\\u{2066}\">b\\u{200F}</p>"
        );
    }
}
