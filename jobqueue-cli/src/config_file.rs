//! The optional config file: `NAME=value` lines (`#` comments) that supply
//! environment variables the environment does not already set, so the
//! precedence is flags > environment > file.

use std::path::Path;

/// `--config <path>` / `--config=<path>` from the raw arguments, else
/// `JOBQUEUE_CONFIG` (read before clap parses the flags, so the file can
/// supply their defaults).
pub(crate) fn path_from_args() -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--config" {
            return args.next().map(Into::into);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(path.into());
        }
    }
    std::env::var_os("JOBQUEUE_CONFIG").map(Into::into)
}

/// Variables from the file at `path` that are not set in the environment.
pub(crate) fn missing_vars(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    parse(&text)
        .map(|vars| {
            vars.into_iter()
                .filter(|(name, _)| std::env::var_os(name).is_none())
                .collect()
        })
        .map_err(|e| format!("config file {}: {e}", path.display()))
}

/// Parses `NAME=value` lines; only `JOBQUEUE_*` names are accepted.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected NAME=value", n + 1));
        };
        let name = name.trim();
        if !name.starts_with("JOBQUEUE_") {
            return Err(format!(
                "line {}: only JOBQUEUE_* settings belong here, got {name:?}",
                n + 1
            ));
        }
        let value = value.trim().trim_matches('"');
        vars.push((name.to_owned(), value.to_owned()));
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_refuses_strangers() {
        let vars =
            parse("# c\nJOBQUEUE_REDIS_URL = \"redis://x:1\"\n\nJOBQUEUE_PREFIX=app\n").unwrap();
        assert_eq!(
            vars,
            vec![
                ("JOBQUEUE_REDIS_URL".to_owned(), "redis://x:1".to_owned()),
                ("JOBQUEUE_PREFIX".to_owned(), "app".to_owned()),
            ]
        );
        assert!(parse("PATH=/bin").is_err());
        assert!(parse("JOBQUEUE_X").is_err());
    }
}
