//! Scenario sizes: CI defaults, overridden by `JQ_CHAOS_<NAME>` variables
//! (`scripts/chaos` sets them for the long run).

/// The value of `JQ_CHAOS_<name>` (upper-cased), or `ci_default` when it is
/// unset. A set but unparsable value is a mistake in the run's setup, so it
/// panics with the variable's name rather than silently run the CI size.
pub fn param(name: &str, ci_default: u64) -> u64 {
    let var = format!("JQ_CHAOS_{}", name.to_ascii_uppercase());
    match std::env::var(&var) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{var}={text:?} is not a whole number")),
        Err(_) => ci_default,
    }
}

/// The text of `JQ_CHAOS_<name>` (upper-cased), or `ci_default` when unset.
pub fn param_text(name: &str, ci_default: &str) -> String {
    std::env::var(format!("JQ_CHAOS_{}", name.to_ascii_uppercase()))
        .unwrap_or_else(|_| ci_default.to_owned())
}
