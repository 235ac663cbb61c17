//! Turns README.md and every docs/*.md with a Rust code block into a
//! doctest module, so `cargo test -p jobqueue-doc-snippets --doc` compiles
//! (and, where they need no Redis, runs) every snippet a reader sees.
//!
//! Snippets stay short on the page; what they need around them (imports,
//! the job types they use, an `async fn` with a `client`) is written in an
//! HTML comment, which GitHub does not show:
//!
//! ```text
//! <!-- doctest-setup
//! use jobqueue::Client;
//! async fn example(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! {snippet}
//! Ok(()) }
//! -->
//! ```
//!
//! `doctest-setup` applies to every later Rust block of the file (until the
//! next `doctest-setup`; `<!-- doctest-setup none -->` ends it);
//! `<!-- doctest … -->` right before a block applies to that block only.
//! The setup's lines become rustdoc's hidden `# ` lines around the snippet.
//! A new guide is picked up without being listed anywhere.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it"));
    let mut guides: Vec<PathBuf> = vec![root.join("README.md")];
    let docs = root.join("docs");
    println!("cargo:rerun-if-changed={}", docs.display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("README.md").display()
    );
    let mut entries: Vec<PathBuf> = fs::read_dir(&docs)
        .expect("docs/ is readable")
        .map(|entry| entry.expect("docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    entries.sort();
    guides.extend(entries);

    let mut module = String::new();
    for (index, guide) in guides.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", guide.display());
        let text = fs::read_to_string(guide).expect("a guide is readable UTF-8");
        if !text.contains("```rust") {
            continue;
        }
        let expanded = expand(&text, guide);
        let name = format!("guide_{index}.md");
        let stem = guide
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("guide");
        let ident: String = stem
            .split(['-', '_', '.'])
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                })
            })
            .collect();
        fs::write(out.join(&name), expanded).expect("OUT_DIR is writable");
        let shown = guide.strip_prefix(&root).unwrap_or(guide).display();
        writeln!(
            module,
            "/// `{shown}`\n///\n#[doc = include_str!(concat!(env!(\"OUT_DIR\"), \"/{name}\"))]\npub struct {ident};"
        )
        .expect("writing to a String");
    }
    fs::write(out.join("guides.rs"), module).expect("OUT_DIR is writable");
}

/// The guide with each Rust block wrapped in its setup, as hidden lines.
fn expand(text: &str, guide: &Path) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut file_setup: Option<String> = None;
    let mut block_setup: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- doctest-setup") {
            let (body, next) = comment_body(&lines, i, rest);
            file_setup = (body.trim() != "none").then_some(body);
            i = next;
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("<!-- doctest") {
            let (body, next) = comment_body(&lines, i, rest);
            block_setup = Some(body);
            i = next;
            continue;
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
        if trimmed.starts_with("```rust") {
            let setup = block_setup.take().or_else(|| file_setup.clone());
            let end = (i..lines.len())
                .find(|&j| lines[j].trim() == "```")
                .unwrap_or_else(|| panic!("{}: unclosed code block", guide.display()));
            let snippet = &lines[i..end];
            match setup {
                None => snippet.iter().for_each(|l| {
                    out.push_str(l);
                    out.push('\n');
                }),
                Some(setup) => {
                    assert!(
                        setup.lines().any(|l| l.trim() == "{snippet}"),
                        "{}: a doctest setup needs a {{snippet}} line",
                        guide.display()
                    );
                    for l in setup.lines() {
                        if l.trim() == "{snippet}" {
                            snippet.iter().for_each(|s| {
                                out.push_str(s);
                                out.push('\n');
                            });
                        } else {
                            out.push_str("# ");
                            out.push_str(l);
                            out.push('\n');
                        }
                    }
                }
            }
            i = end;
        } else if !trimmed.starts_with("<!--") && !trimmed.is_empty() {
            block_setup = None;
        }
    }
    out
}

/// The text of the HTML comment opening at `lines[start]` (after its tag),
/// and the index of the line after it.
fn comment_body(lines: &[&str], start: usize, rest: &str) -> (String, usize) {
    if let Some(inline) = rest.strip_suffix("-->") {
        return (inline.trim().to_owned(), start + 1);
    }
    let mut body = String::new();
    let mut j = start + 1;
    while j < lines.len() && lines[j].trim() != "-->" {
        body.push_str(lines[j]);
        body.push('\n');
        j += 1;
    }
    (body, j + 1)
}
