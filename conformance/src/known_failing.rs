//! THE list of (adapter, scenario) pairs known to fail, because the
//! implementation does not have the feature yet. Such a pair still runs;
//! its failure is reported loudly but does not fail the suite, and a pair
//! that passes while listed is reported too (take it off the list).
//! Empty it as implementations catch up: nothing else hides a failure.

/// `(adapter name, scenario name)` pairs expected to fail for now.
pub const KNOWN_FAILING: &[(&str, &str)] = &[];

/// Whether `(adapter, scenario)` is on the list.
pub fn is_known_failing(adapter: &str, scenario: &str) -> bool {
    KNOWN_FAILING
        .iter()
        .any(|(a, s)| *a == adapter && *s == scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_pair_names_a_scenario_once() {
        for (index, (adapter, scenario)) in KNOWN_FAILING.iter().enumerate() {
            assert!(
                crate::scenarios::named(scenario).is_some(),
                "known-failing pair ({adapter}, {scenario}) names no scenario"
            );
            assert!(
                !KNOWN_FAILING[..index].contains(&(adapter, scenario)),
                "({adapter}, {scenario}) is listed twice"
            );
            assert!(is_known_failing(adapter, scenario));
        }
        assert!(!is_known_failing("rust", "chain.runs_in_order"));
    }
}
