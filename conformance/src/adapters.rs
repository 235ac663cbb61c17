//! Finding the implementations' adapters (ADAPTER.md, "Finding adapters"):
//! `JOBQUEUE_CONFORMANCE_ADAPTERS`, else the defaults that are present;
//! `JOBQUEUE_CONFORMANCE_REQUIRE` names the ones whose absence fails a run.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `name=command words;name=command words`: the adapters to run, instead of the defaults.
pub const ENV_ADAPTERS: &str = "JOBQUEUE_CONFORMANCE_ADAPTERS";
/// A deliberate protocol break an adapter applies (the suite's test of
/// itself only): `error_history` makes a worker bury jobs without their
/// error entries. Adapters must ignore it unless told to honour it.
pub const ENV_BREAK: &str = "JOBQUEUE_CONFORMANCE_BREAK";
/// Comma-separated adapter names that must be available (`scripts/test` sets it).
pub const ENV_REQUIRE: &str = "JOBQUEUE_CONFORMANCE_REQUIRE";

/// One implementation's adapter: the command that starts it (mode and
/// options are appended), and extra environment for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    /// `rust`, `python`, `typescript`, …
    pub name: String,
    /// Program and leading arguments.
    pub command: Vec<String>,
    /// Environment variables set for its processes.
    pub env: Vec<(String, String)>,
}

impl Adapter {
    /// An adapter run as `command`.
    pub fn new(name: impl Into<String>, command: Vec<String>) -> Self {
        Self {
            name: name.into(),
            command,
            env: Vec::new(),
        }
    }

    /// The same adapter with `key=value` in its environment.
    #[must_use]
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// The adapters found, and the defaults that are not there (with why).
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Adapters to run.
    pub available: Vec<Adapter>,
    /// Default adapters not available: name and reason.
    pub missing: Vec<(String, String)>,
}

impl Discovery {
    /// The adapter named `name`, when available.
    pub fn get(&self, name: &str) -> Option<&Adapter> {
        self.available.iter().find(|adapter| adapter.name == name)
    }

    /// Why the required adapter `name` cannot run, if it cannot.
    pub fn missing_reason(&self, name: &str) -> Option<String> {
        if self.get(name).is_some() {
            return None;
        }
        Some(
            self.missing
                .iter()
                .find(|(missing, _)| missing == name)
                .map(|(_, why)| why.clone())
                .unwrap_or_else(|| format!("no adapter named {name:?} is configured")),
        )
    }
}

impl Discovery {
    /// Adapter `name` when available; `Ok(None)` when it is absent and not
    /// required by `JOBQUEUE_CONFORMANCE_REQUIRE` (the caller skips it);
    /// `Err` (why) when it is required.
    pub fn wanted(&self, name: &str) -> Result<Option<Adapter>, String> {
        self.wanted_among(name, &required())
    }

    fn wanted_among(&self, name: &str, required: &[String]) -> Result<Option<Adapter>, String> {
        match self.missing_reason(name) {
            None => Ok(self.get(name).cloned()),
            Some(why) if required.iter().any(|r| r == name) => Err(format!(
                "adapter {name} is required ({ENV_REQUIRE}) but not available: {why}"
            )),
            Some(_) => Ok(None),
        }
    }

    /// Fails (with why) when an adapter `JOBQUEUE_CONFORMANCE_REQUIRE` names is absent.
    pub fn check_required(&self) -> Result<(), String> {
        required()
            .iter()
            .try_for_each(|name| self.wanted(name).map(|_| ()))
    }
}

/// The adapter names `JOBQUEUE_CONFORMANCE_REQUIRE` lists.
pub fn required() -> Vec<String> {
    std::env::var(ENV_REQUIRE)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The repository's root (this crate sits in `conformance/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The adapters to run: `JOBQUEUE_CONFORMANCE_ADAPTERS` when set, else the
/// defaults (`rust_adapter` is the path of this crate's Rust adapter binary).
pub fn discover(rust_adapter: &Path) -> Discovery {
    match std::env::var(ENV_ADAPTERS) {
        Ok(list) if !list.trim().is_empty() => from_list(&list),
        _ => defaults(rust_adapter, &repo_root()),
    }
}

/// Parses `name=command words;…`.
fn from_list(list: &str) -> Discovery {
    let mut discovery = Discovery::default();
    for entry in list.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.split_once('=') {
            Some((name, command)) if !command.trim().is_empty() => {
                discovery.available.push(Adapter::new(
                    name.trim(),
                    command.split_whitespace().map(str::to_owned).collect(),
                ));
            }
            _ => discovery.missing.push((
                entry.to_owned(),
                format!("{ENV_ADAPTERS} entry {entry:?} is not name=command"),
            )),
        }
    }
    discovery
}

fn defaults(rust_adapter: &Path, root: &Path) -> Discovery {
    let mut discovery = Discovery::default();
    discovery.available.push(Adapter::new(
        "rust",
        vec![rust_adapter.display().to_string()],
    ));
    let python_adapter = root.join("conformance/adapters/python/adapter.py");
    match Command::new("python3")
        .args(["-c", "import jobqueue_client"])
        .output()
    {
        Ok(out) if out.status.success() => discovery.available.push(Adapter::new(
            "python",
            vec!["python3".into(), python_adapter.display().to_string()],
        )),
        Ok(_) => discovery.missing.push((
            "python".into(),
            "`import jobqueue_client` fails: python3 -m pip install ./clients/python".into(),
        )),
        Err(err) => discovery
            .missing
            .push(("python".into(), format!("python3 cannot run: {err}"))),
    }
    let ts_adapter = root.join("conformance/adapters/typescript/adapter.mjs");
    let ts_dist = root.join("clients/typescript/dist");
    if ts_adapter.exists() && ts_dist.exists() {
        discovery.available.push(Adapter::new(
            "typescript",
            vec!["node".into(), ts_adapter.display().to_string()],
        ));
    } else {
        discovery.missing.push((
            "typescript".into(),
            format!(
                "needs {} and a built client in {} (npm ci && npm run build in clients/typescript)",
                ts_adapter.display(),
                ts_dist.display()
            ),
        ));
    }
    discovery
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adapter_list_is_parsed_and_a_bad_entry_reported() {
        let found = from_list("rust=/bin/a worker-x; python=python3 a.py ;broken");
        assert_eq!(found.available.len(), 2);
        assert_eq!(found.available[1].command, vec!["python3", "a.py"]);
        assert_eq!(found.missing.len(), 1);
        assert!(found.missing_reason("broken").is_some());
        assert!(found.missing_reason("rust").is_none());
    }

    #[test]
    fn a_missing_adapter_is_skipped_unless_required() {
        let found = from_list("rust=/bin/a");
        let required = vec!["rust".to_owned(), "python".to_owned()];
        assert!(matches!(found.wanted_among("rust", &required), Ok(Some(_))));
        assert_eq!(found.wanted_among("typescript", &required), Ok(None));
        let refused = found.wanted_among("python", &required);
        assert!(refused.is_err_and(|why| why.contains("python is required")));
    }
}
