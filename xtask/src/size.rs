//! `cargo xtask size`: what a first visit downloads from `dist/`, compressed as a CDN
//! would serve it, checked against `size-budget.toml`.

use crate::build;
use crate::proc::{self, Ctx};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const BUDGET_FILE: &str = "size-budget.toml";

/// Brotli at its maximum quality with the usual 4 MiB window (`brotli -q 11`).
const BROTLI_QUALITY: u32 = 11;
const BROTLI_LGWIN: u32 = 22;

pub struct FileSize {
    pub name: String,
    pub kind: &'static str,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

pub struct Report {
    pub files: Vec<FileSize>,
    /// The wasm chunks, fetched when a page that needs one is first shown.
    pub chunks: Vec<FileSize>,
    /// Files in dist/ that a first visit does not fetch.
    pub unused: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Budget {
    total: Limit,
    #[serde(default)]
    kind: BTreeMap<String, Limit>,
    /// Per chunk, by its name without the hash (`split_security`); `shared` is the limit
    /// of each `chunk_<n>` (code that several chunks use; the numbers change with the code).
    #[serde(default)]
    chunk: BTreeMap<String, Limit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    /// Brotli bytes at most: the stage fails above it.
    brotli: u64,
    /// Where the design must get to, when the budget is not there yet: printed, with the
    /// distance left, but not enforced (the budget only ever comes down toward it).
    #[serde(default)]
    goal: Option<u64>,
    /// Why this number: what it pays for, and what was measured when it was set.
    reason: String,
}

pub fn measure(ctx: &Ctx) -> Result<Report> {
    let dist = build::dist(ctx);
    if !dist.join("index.html").is_file() {
        bail!(
            "dist/index.html is missing: build the SPA first (`cargo xtask size` without --no-build)"
        );
    }
    let mut all = Vec::new();
    walk(&dist, &dist, &mut all)?;
    let first_visit = first_visit(&dist, &all)?;
    let sizes = |names: &mut dyn Iterator<Item = &String>| -> Result<Vec<FileSize>> {
        names
            .map(|name| {
                let bytes = std::fs::read(dist.join(name))?;
                Ok(FileSize {
                    name: name.clone(),
                    kind: kind_of(name),
                    raw: bytes.len() as u64,
                    gzip: gzip(&bytes)?,
                    brotli: brotli(&bytes)?,
                })
            })
            .collect()
    };
    let files = sizes(&mut first_visit.iter())?;
    let chunk_names: Vec<String> = all
        .iter()
        .filter(|f| !first_visit.contains(*f) && kind_of(f) == "wasm")
        .cloned()
        .collect();
    let chunks = sizes(&mut chunk_names.iter())?;
    let unused = all
        .into_iter()
        .filter(|f| !first_visit.contains(f) && !chunk_names.contains(f))
        .collect();
    Ok(Report {
        files,
        chunks,
        unused,
    })
}

/// index.html and every dist/ file it names, directly or through a file it names (the
/// loader's <meta> names the glue and the wasm; CSS may name fonts), plus favicon.ico,
/// which browsers ask for unprompted. A wasm file counts only when index.html names it:
/// the ones that only scripts name are chunks, fetched when a page needs them. The web app
/// manifest and the icons it names do not count: a browser asks for them once the page has
/// loaded, to see whether the site can be installed, never before the form is usable.
fn first_visit(dist: &Path, all: &[String]) -> Result<BTreeSet<String>> {
    let mut seen = BTreeSet::from(["index.html".to_owned()]);
    if all.iter().any(|f| f == "favicon.ico") {
        seen.insert("favicon.ico".to_owned());
    }
    let mut queue = vec!["index.html".to_owned()];
    while let Some(name) = queue.pop() {
        if !is_text(&name) {
            continue;
        }
        let text = proc::read(&dist.join(&name))?;
        for other in all {
            let chunk = name != "index.html" && kind_of(other) == "wasm";
            let after_load = other.ends_with(".webmanifest");
            if !chunk && !after_load && !seen.contains(other) && names(&text, other) {
                seen.insert(other.clone());
                queue.push(other.clone());
            }
        }
    }
    Ok(seen)
}

/// Whether `text` names the file `name`: as a whole name, so `__wbg_set_headers` in the
/// glue is not the `_headers` file.
fn names(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    })
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path: PathBuf = entry?.path();
        if path.is_dir() {
            walk(base, &path, out)?;
        } else if !crate::compress::is_variant(&path.to_string_lossy()) {
            let rel = path
                .strip_prefix(base)?
                .to_string_lossy()
                .replace('\\', "/");
            out.push(rel);
        }
    }
    out.sort();
    Ok(())
}

fn kind_of(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "html",
        "js" | "mjs" => "js",
        "wasm" => "wasm",
        "css" => "css",
        _ => "other",
    }
}

fn is_text(name: &str) -> bool {
    matches!(
        name.rsplit('.').next().unwrap_or(""),
        "html" | "js" | "mjs" | "css" | "json" | "webmanifest" | "svg"
    )
}

fn gzip(bytes: &[u8]) -> Result<u64> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len() as u64)
}

fn brotli(bytes: &[u8]) -> Result<u64> {
    let mut enc =
        brotli::CompressorWriter::new(Vec::new(), 64 * 1024, BROTLI_QUALITY, BROTLI_LGWIN);
    enc.write_all(bytes)?;
    enc.flush()?;
    Ok(enc.into_inner().len() as u64)
}

impl Report {
    pub fn total(&self) -> (u64, u64, u64) {
        self.files.iter().fold((0, 0, 0), |(r, g, b), f| {
            (r + f.raw, g + f.gzip, b + f.brotli)
        })
    }

    fn by_kind(&self) -> BTreeMap<&'static str, u64> {
        let mut kinds = BTreeMap::new();
        for f in &self.files {
            *kinds.entry(f.kind).or_insert(0) += f.brotli;
        }
        kinds
    }

    pub fn print(&self) {
        let width = self
            .files
            .iter()
            .map(|f| f.name.len())
            .max()
            .unwrap_or(4)
            .max(5);
        println!("\nWhat a first visit downloads from dist/ (bytes; gzip -9, brotli q11):");
        println!(
            "  {:width$}  {:>5}  {:>10}  {:>10}  {:>10}",
            "file", "kind", "raw", "gzip", "brotli"
        );
        for f in &self.files {
            println!(
                "  {:width$}  {:>5}  {:>10}  {:>10}  {:>10}",
                f.name,
                f.kind,
                group(f.raw),
                group(f.gzip),
                group(f.brotli)
            );
        }
        let (raw, gz, br) = self.total();
        println!(
            "  {:width$}  {:>5}  {:>10}  {:>10}  {:>10}",
            "total",
            "",
            group(raw),
            group(gz),
            group(br)
        );
        if !self.chunks.is_empty() {
            println!("\nChunks, each fetched when a page that needs it is first shown:");
            for f in &self.chunks {
                println!(
                    "  {:width$}  {:>5}  {:>10}  {:>10}  {:>10}",
                    f.name,
                    f.kind,
                    group(f.raw),
                    group(f.gzip),
                    group(f.brotli)
                );
            }
        }
        if !self.unused.is_empty() {
            println!(
                "  not fetched before the form is usable: {}",
                self.unused.join(", ")
            );
        }
    }

    /// Compares the brotli sizes with the committed budget; fails when over.
    pub fn check(&self, ctx: &Ctx) -> Result<()> {
        let path = ctx.root.join(BUDGET_FILE);
        let budget: Budget = toml::from_str(&proc::read(&path)?)
            .with_context(|| format!("parsing {BUDGET_FILE}"))?;
        let mut rows = vec![("total".to_owned(), self.total().2, Some(&budget.total))];
        for (kind, bytes) in self.by_kind() {
            rows.push((kind.to_owned(), bytes, budget.kind.get(kind)));
        }
        for chunk in &self.chunks {
            let name = chunk_name(&chunk.name);
            let key = if name.starts_with("chunk_") {
                "shared"
            } else {
                name
            };
            rows.push((format!("chunk {name}"), chunk.brotli, budget.chunk.get(key)));
        }
        let mut problems = Vec::new();
        println!("\nBudget ({BUDGET_FILE}, brotli bytes):");
        for (name, measured, limit) in rows {
            let Some(limit) = limit else {
                problems.push(match name.strip_prefix("chunk ") {
                    Some(chunk) => format!(
                        "no budget for the chunk `{chunk}`: add [chunk.{chunk}] with a reason"
                    ),
                    None => {
                        format!("no budget for `{name}` files: add [kind.{name}] with a reason")
                    }
                });
                continue;
            };
            if limit.reason.trim().is_empty() {
                problems.push(format!("the budget for `{name}` has no reason"));
            }
            let verdict = if measured <= limit.brotli {
                "ok"
            } else {
                "OVER"
            };
            println!(
                "  {:30} {:>10} of {:>10} ({:>3}%)  {verdict}",
                name,
                group(measured),
                group(limit.brotli),
                measured * 100 / limit.brotli.max(1),
            );
            if let Some(goal) = limit.goal.filter(|goal| measured > *goal) {
                println!(
                    "  {:30} goal {:>10}: {} bytes to go",
                    "",
                    group(goal),
                    group(measured - goal)
                );
            }
            if measured > limit.brotli {
                problems.push(format!(
                    "`{name}` is {} brotli bytes, over its budget of {} ({})",
                    group(measured),
                    group(limit.brotli),
                    limit.reason.trim()
                ));
            }
        }
        for kind in budget.kind.keys() {
            if !self.by_kind().contains_key(kind.as_str()) {
                println!("  {kind:30} (no such files in this build)");
            }
        }
        for chunk in budget.chunk.keys() {
            let built = self.chunks.iter().any(|c| {
                let name = chunk_name(&c.name);
                name == chunk || (chunk == "shared" && name.starts_with("chunk_"))
            });
            if !built {
                problems.push(format!(
                    "[chunk.{chunk}] in {BUDGET_FILE} matches no chunk of this build: remove it"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "size budget exceeded:\n  - {}\nShrink the build, or raise the number in {BUDGET_FILE} with the reason beside it.",
                problems.join("\n  - ")
            )
        }
    }
}

/// `split_security-0123456789abcdef.wasm` -> `split_security`: a chunk's name in the
/// budget, without the build's hash.
fn chunk_name(file: &str) -> &str {
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => stem,
    }
}

/// 1234567 -> "1,234,567"
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }

    #[test]
    fn a_file_is_named_only_as_a_whole_name() {
        assert!(names(r#"href="/_headers""#, "_headers"));
        assert!(names("_headers", "_headers"));
        assert!(!names("__wbg_set_headers", "_headers"));
        assert!(!names("/x-main.css", "main.css"));
    }

    #[test]
    fn chunk_names_drop_the_hash() {
        assert_eq!(
            chunk_name("split_security-0123456789abcdef.wasm"),
            "split_security"
        );
        assert_eq!(chunk_name("chunk_3-0123456789abcdef.wasm"), "chunk_3");
        assert_eq!(chunk_name("split_x.wasm"), "split_x");
    }

    #[test]
    fn compression_shrinks_repetitive_text() {
        let text = "microblog ".repeat(1000);
        let b = brotli(text.as_bytes()).unwrap();
        let g = gzip(text.as_bytes()).unwrap();
        assert!(b < 200 && g < 200, "brotli {b}, gzip {g}");
    }

    #[test]
    fn the_committed_budget_parses_and_gives_reasons() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let budget: Budget =
            toml::from_str(&std::fs::read_to_string(root.join(BUDGET_FILE)).unwrap()).unwrap();
        assert!(budget.total.brotli > 0 && !budget.total.reason.trim().is_empty());
        for (kind, limit) in budget.kind.iter().chain(&budget.chunk) {
            assert!(!limit.reason.trim().is_empty(), "{kind} has no reason");
        }
    }
}
