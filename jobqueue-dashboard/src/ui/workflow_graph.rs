//! A workflow's nodes drawn on the server as SVG: one column per depth
//! (roots on the left), each node a box coloured by its state, each edge a
//! line from parent to child (dashed for `skip` and `run` edges, dotted
//! for `wait`). Names are escaped (hidden characters made visible, then
//! XML-escaped) and cut to fit; the full name is the box's tooltip.

use std::collections::HashMap;
use std::fmt::Write;

use jobqueue_core::admin::escape_hidden;
use jobqueue_core::{NodeState, OnParentFailure, WorkflowStatus};

use crate::ui::chart::escape;

const BOX_W: f64 = 170.0;
const BOX_H: f64 = 40.0;
const COL_GAP: f64 = 60.0;
const ROW_GAP: f64 = 18.0;
const PAD: f64 = 12.0;
/// Characters of a name that fit in a box.
const NAME_CHARS: usize = 22;

/// The fill of a node in `state`.
fn fill(state: NodeState) -> &'static str {
    match state {
        NodeState::Succeeded => "#22c55e",
        NodeState::Running | NodeState::Retrying => "#3b82f6",
        NodeState::Failed | NodeState::Unknown => "#ef4444",
        NodeState::Skipped => "#a3a3a3",
        NodeState::Cancelled => "#f59e0b",
        NodeState::Pending | NodeState::Waiting | NodeState::Queued => "#e5e7eb",
    }
}

fn cut(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        return name.to_owned();
    }
    let mut short: String = name.chars().take(NAME_CHARS - 1).collect();
    short.push('…');
    short
}

/// The SVG of `status`'s graph.
pub(crate) fn workflow_svg(status: &WorkflowStatus) -> String {
    let mut rows_per_depth: HashMap<usize, usize> = HashMap::new();
    let mut places: HashMap<&str, (f64, f64)> = HashMap::new();
    for node in &status.nodes {
        let row = rows_per_depth.entry(node.depth).or_default();
        let x = PAD + node.depth as f64 * (BOX_W + COL_GAP);
        let y = PAD + *row as f64 * (BOX_H + ROW_GAP);
        *row += 1;
        places.insert(node.name.as_str(), (x, y));
    }
    let columns = rows_per_depth.keys().max().map_or(1, |d| d + 1);
    let rows = rows_per_depth.values().max().copied().unwrap_or(1);
    let width = 2.0 * PAD + columns as f64 * BOX_W + (columns - 1) as f64 * COL_GAP;
    let height = 2.0 * PAD + rows as f64 * BOX_H + (rows.max(1) - 1) as f64 * ROW_GAP;
    let title = format!(
        "Graph of workflow {}",
        escape_hidden(&status.summary.name, false)
    );
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        escape(&title),
        escape(&title)
    );
    svg.push_str(
        "<style>text{font:12px system-ui,sans-serif;fill:#111}.s{font-size:10px;fill:#333}\
         line{stroke:#888;stroke-width:1.5}.skip,.run{stroke-dasharray:6 4}.wait{stroke-dasharray:2 3}\
         rect{stroke:#555;stroke-width:1}</style>",
    );
    for edge in &status.edges {
        let (Some(from), Some(to)) = (places.get(edge.from.as_str()), places.get(edge.to.as_str()))
        else {
            continue;
        };
        let class = match edge.policy {
            OnParentFailure::DeadLetter => "dead_letter",
            OnParentFailure::Skip => "skip",
            OnParentFailure::Run => "run",
            OnParentFailure::Wait => "wait",
        };
        let _ = write!(
            svg,
            "<line class=\"{class}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>\
             <circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#888\"/>",
            from.0 + BOX_W,
            from.1 + BOX_H / 2.0,
            to.0,
            to.1 + BOX_H / 2.0,
            to.0,
            to.1 + BOX_H / 2.0
        );
    }
    for node in &status.nodes {
        let Some((x, y)) = places.get(node.name.as_str()) else {
            continue;
        };
        let name = escape_hidden(&node.name, false);
        let _ = write!(
            svg,
            "<g class=\"node\" data-state=\"{state}\"><title>{full}: {state}</title>\
             <rect x=\"{x:.1}\" y=\"{y:.1}\" rx=\"6\" width=\"{BOX_W}\" height=\"{BOX_H}\" fill=\"{fill}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{short}</text><text class=\"s\" x=\"{:.1}\" y=\"{:.1}\">{state}</text></g>",
            x + 8.0,
            y + 16.0,
            x + 8.0,
            y + 31.0,
            state = node.state.as_str(),
            full = escape(&name),
            short = escape(&cut(&name)),
            fill = fill(node.state),
        );
    }
    svg.push_str("</svg>");
    svg
}
