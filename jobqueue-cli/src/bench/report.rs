//! What a run prints: progress on stderr, and the one JSON line on
//! stdout (with its percentiles and rounding).

use serde_json::{Map, Value, json};

/// Logs progress on stderr.
pub(crate) fn progress(message: impl std::fmt::Display) {
    eprintln!("[bench] {message}");
}

/// Prints the result line: the workload's fields plus system, version, workload.
pub(crate) fn print_line(workload: &str, fields: Value) {
    let mut line = Map::new();
    line.insert("system".into(), json!("jobqueue"));
    line.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    line.insert("workload".into(), json!(workload));
    if let Value::Object(extra) = fields {
        line.extend(extra);
    }
    println!("{}", Value::Object(line));
}

/// p50, p95, p99, max, min of `values` (ms), nearest rank.
pub(crate) fn percentiles_ms(mut values: Vec<f64>) -> Value {
    if values.is_empty() {
        return json!({"p50_ms": null, "p95_ms": null, "p99_ms": null, "max_ms": null, "min_ms": null});
    }
    values.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let index = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
        round3(values[index])
    };
    json!({
        "p50_ms": rank(0.50),
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": round3(values[values.len() - 1]),
        "min_ms": round3(values[0]),
    })
}

/// Rounds to three decimals.
pub(crate) fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Merges two JSON objects.
pub(crate) fn merge(mut a: Value, b: Value) -> Value {
    if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
        a.extend(b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = percentiles_ms(values);
        assert_eq!(p["p50_ms"], 50.0);
        assert_eq!(p["p99_ms"], 99.0);
        assert_eq!(p["max_ms"], 100.0);
        assert_eq!(p["min_ms"], 1.0);
    }
}
