//! Server-drawn SVG charts of the processed/failed history: two bar series
//! (processed up, failed in a contrasting colour) with a max label and
//! start/end time labels. The SVG carries its own style so it follows the
//! system's dark mode when shown as an image.

use std::fmt::Write;

use jobqueue_core::admin::HistoryPoint;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const PAD_LEFT: f64 = 8.0;
const PAD_TOP: f64 = 22.0;
const PAD_BOTTOM: f64 = 20.0;

/// An SVG bar chart of `points`; `label_format` formats the time labels
/// (chrono format string), `title` is the accessible name.
pub(crate) fn history_svg(points: &[HistoryPoint], title: &str, label_format: &str) -> String {
    let max = points
        .iter()
        .map(|p| p.processed.max(p.failed))
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = WIDTH - 2.0 * PAD_LEFT;
    let plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM;
    let slot = plot_w / points.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let y_of = |v: u64| PAD_TOP + plot_h - plot_h * (v as f64 / max as f64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    svg.push_str(
        "<style>text{font:12px system-ui,sans-serif;fill:#667}\
         .p{fill:#3b82f6}.f{fill:#ef4444}.g{stroke:#dde;stroke-width:1}\
         @media (prefers-color-scheme:dark){text{fill:#aab}.g{stroke:#334}}</style>",
    );
    let _ = write!(svg, "<title>{}</title>", escape(title));
    let base = PAD_TOP + plot_h;
    let _ = write!(
        svg,
        "<line class=\"g\" x1=\"{PAD_LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\"/>\
         <line class=\"g\" x1=\"{PAD_LEFT}\" y1=\"{PAD_TOP}\" x2=\"{}\" y2=\"{PAD_TOP}\"/>",
        WIDTH - PAD_LEFT,
        WIDTH - PAD_LEFT
    );
    for (i, point) in points.iter().enumerate() {
        let x = PAD_LEFT + i as f64 * slot + (slot - bar) / 2.0;
        if point.processed > 0 {
            let y = y_of(point.processed);
            let _ = write!(
                svg,
                "<rect class=\"p\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"><title>{}: {} processed</title></rect>",
                base - y,
                point.at.format(label_format),
                point.processed
            );
        }
        if point.failed > 0 {
            let y = y_of(point.failed);
            let _ = write!(
                svg,
                "<rect class=\"f\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {} failed</title></rect>",
                x + bar / 4.0,
                bar / 2.0,
                base - y,
                point.at.format(label_format),
                point.failed
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{PAD_LEFT}\" y=\"14\">max {max} · <tspan class=\"p\">■</tspan> processed <tspan class=\"f\">■</tspan> failed</text>"
    );
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            svg,
            "<text x=\"{PAD_LEFT}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            HEIGHT - 4.0,
            first.at.format(label_format),
            WIDTH - PAD_LEFT,
            HEIGHT - 4.0,
            last.at.format(label_format)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Escapes text for XML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn draws_one_bar_per_non_zero_count() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap();
        let points = vec![
            HistoryPoint {
                at,
                processed: 10,
                failed: 2,
            },
            HistoryPoint {
                at,
                processed: 0,
                failed: 0,
            },
            HistoryPoint {
                at,
                processed: 5,
                failed: 0,
            },
        ];
        let svg = history_svg(&points, "a <b>", "%H:%M");
        assert_eq!(svg.matches("<rect class=\"p\"").count(), 2);
        assert_eq!(svg.matches("<rect class=\"f\"").count(), 1);
        assert!(svg.contains("max 10"));
        assert!(svg.contains("a &lt;b&gt;"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
