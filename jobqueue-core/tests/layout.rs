//! One stem per state change: every Lua script `src/lua/<stem>.lua` is
//! called from `src/store/ops/<stem>.rs`, names that caller on its
//! "Called by:" line, and has a row in `docs/architecture.md` that names
//! both files — so a newcomer goes from a transition to its script, its
//! Rust caller and its documentation by the file name alone.

use std::fs;
use std::path::{Path, PathBuf};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The stems of the files with `extension` directly in `dir`.
fn stems(dir: &Path, extension: &str) -> Vec<String> {
    let mut stems: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().and_then(|e| e.to_str()) == Some(extension))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    stems.sort();
    stems
}

fn lua_dir() -> PathBuf {
    crate_dir().join("src/lua")
}

fn ops_dir() -> PathBuf {
    crate_dir().join("src/store/ops")
}

/// Whether `source` calls the script of `stem` through the registry
/// (`SCRIPTS.<stem>`, possibly split over lines by rustfmt).
fn calls_script(source: &str, stem: &str) -> bool {
    let squeezed: String = source.split_whitespace().collect();
    squeezed.contains(&format!("SCRIPTS.{stem}."))
        || squeezed.contains(&format!("SCRIPTS.{stem},"))
        || squeezed.contains(&format!("SCRIPTS.{stem})"))
}

#[test]
fn every_script_has_a_caller_of_the_same_stem() {
    let mut problems = Vec::new();
    for stem in stems(&lua_dir(), "lua") {
        let caller = ops_dir().join(format!("{stem}.rs"));
        match fs::read_to_string(&caller) {
            Ok(source) if calls_script(&source, &stem) => {}
            Ok(_) => problems.push(format!("store/ops/{stem}.rs does not call SCRIPTS.{stem}")),
            Err(_) => problems.push(format!("lua/{stem}.lua has no store/ops/{stem}.rs")),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_ops_file_calls_a_script_of_its_stem() {
    let scripts = stems(&lua_dir(), "lua");
    let orphans: Vec<String> = stems(&ops_dir(), "rs")
        .into_iter()
        .filter(|stem| stem != "mod" && !scripts.contains(stem))
        .collect();
    assert!(
        orphans.is_empty(),
        "store/ops files without a script of the same stem: {orphans:?}"
    );
}

#[test]
fn every_script_names_its_caller_in_its_header() {
    let mut problems = Vec::new();
    for stem in stems(&lua_dir(), "lua") {
        let source = fs::read_to_string(lua_dir().join(format!("{stem}.lua"))).unwrap();
        let header = source.split("]]").next().unwrap_or_default();
        let called_by = header
            .lines()
            .skip_while(|line| !line.starts_with("Called by:"))
            .take_while(|line| !line.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !called_by.contains(&format!("store/ops/{stem}.rs")) {
            problems.push(format!(
                "lua/{stem}.lua: no \"Called by:\" paragraph naming store/ops/{stem}.rs"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_script_has_a_row_in_the_architecture_map() {
    let map = fs::read_to_string(crate_dir().join("../docs/architecture.md")).unwrap();
    let mut missing = Vec::new();
    for stem in stems(&lua_dir(), "lua") {
        let lua = format!("`lua/{stem}.lua`");
        let rust = format!("`store/ops/{stem}.rs`");
        let has_row = map
            .lines()
            .any(|line| line.starts_with('|') && line.contains(&lua) && line.contains(&rust));
        if !has_row {
            missing.push(stem);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md has no table row naming `lua/<stem>.lua` and \
         `store/ops/<stem>.rs` for: {missing:?}"
    );
}

#[test]
fn every_script_is_in_the_registry() {
    let registry = fs::read_to_string(crate_dir().join("src/store/scripts.rs")).unwrap();
    let missing: Vec<String> = stems(&lua_dir(), "lua")
        .into_iter()
        .filter(|stem| !registry.contains(&format!("\"{stem}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "scripts not loaded by the registry: {missing:?}"
    );
}
