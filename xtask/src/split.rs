//! The release build of the SPA, split into a main wasm module and chunks loaded on demand
//! (the pages a first visit never shows, see src/lazy.rs).
//!
//! Trunk cannot run a step between cargo and wasm-bindgen, so the wasm goes through our
//! own pipeline, and Trunk does the rest (HTML, CSS, the loader script, SRI):
//!
//! 1. `cargo rustc` with the `split` feature, keeping relocations in the linked wasm
//!    (`--emit-relocs`, for the final link only, so no dependency is rebuilt for it);
//! 2. `wasm-split-cli` cuts it into the main module, one `split_<name>.wasm` per split
//!    point group, `chunk_<n>.wasm` for code that several of those share, and the chunk
//!    loader `__wasm_split.js`;
//! 3. `wasm-bindgen --keep-lld-exports` on the main module (the chunks link against the
//!    table and functions it exports), then `wasm-opt -Oz` on every module;
//! 4. every file gets the build's content hash in its name (they name one another, so one
//!    hash for the set), each chunk fetch carries its SRI hash, and `terser` minifies the
//!    glue and the chunk loader;
//! 5. Trunk builds index.html with its `rel="rust"` link skipped and followed by what Trunk
//!    itself would have put there (the loader's `<meta>` from `pattern_script`), plus
//!    preloads with SRI for the glue, the chunk loader and the main module; the HTML it is
//!    given has no comments, and names minified copies of the scripts and styles.
//!
//! `trunk serve` keeps building the unsplit app from the same index.html.

use crate::minify;
use crate::proc::{self, Ctx};
use crate::tools;
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use sha2::{Digest, Sha384};
use std::path::{Path, PathBuf};

/// The crate name of the SPA, its binary, and the stem of every output file.
const NAME: &str = "microblog";
/// The splitter's chunk loader, as it names it.
const SPLIT_LOADER: &str = "__wasm_split.js";
/// Where the release HTML is written for Trunk: beside index.html, so its relative paths
/// hold. Removed after the build (and git-ignored).
const RELEASE_HTML: &str = ".release-index.html";

/// Where the minified copies of our own scripts (js/) and styles (style/) are written for
/// Trunk, beside index.html like [`RELEASE_HTML`]. Removed after the build (git-ignored).
const RELEASE_ASSETS: &str = ".release-assets";

/// One output file of the wasm pipeline, before and after its hashed rename.
struct Output {
    /// The name the splitter or wasm-bindgen gave it.
    from: String,
    to: String,
    bytes: Vec<u8>,
}

/// Builds the split app into `dist/`.
pub fn build(ctx: &Ctx, dist: &Path) -> Result<()> {
    let work = ctx.target_dir().join("xtask/spa");
    let wasm = cargo_build(ctx)?;
    let outputs = split_bindgen_opt(ctx, &wasm, &work)?;
    let outputs = hash_names(outputs)?;
    let outputs = minify_js(ctx, outputs, &work)?;
    let html = release_html(ctx, &outputs)?;
    let html = release_assets(ctx, html)?;
    let html_path = ctx.root.join(RELEASE_HTML);
    std::fs::write(&html_path, html)?;
    let trunk = proc::run(&mut crate::build::trunk(ctx, RELEASE_HTML));
    let _ = std::fs::remove_file(&html_path);
    let _ = std::fs::remove_dir_all(ctx.root.join(RELEASE_ASSETS));
    trunk?;
    let index = dist.join("index.html");
    let mut built = proc::read(&index)?;
    if let Ok((start, end)) = rust_link(&built) {
        built.replace_range(start..end, "");
        std::fs::write(&index, built)?;
    }
    for out in &outputs {
        std::fs::write(dist.join(&out.to), &out.bytes)
            .with_context(|| format!("writing dist/{}", out.to))?;
    }
    Ok(())
}

fn cargo_build(ctx: &Ctx) -> Result<PathBuf> {
    let mut cmd = ctx.cargo();
    cmd.args(["rustc", "--package", NAME, "--bin", NAME])
        .args(["--target", tools::WASM_TARGET, "--profile", "wasm-release"])
        .args(["--features", "split", "--", "-C", "link-arg=--emit-relocs"]);
    // Not Leptos's `--cfg erase_components`: it moves the type-erasure machinery into the
    // main module (+3.8 K of brotli) to save in the chunks (-15 K), and the first visit is
    // what counts (measured 2026-12-01).
    proc::run(&mut cmd)?;
    let wasm = ctx
        .target_dir()
        .join(tools::WASM_TARGET)
        .join("wasm-release")
        .join(format!("{NAME}.wasm"));
    if !wasm.is_file() {
        bail!("{} was not built", wasm.display());
    }
    Ok(wasm)
}

/// Steps 2 and 3: the optimised main module, its glue, the chunks and their loader.
fn split_bindgen_opt(ctx: &Ctx, wasm: &Path, work: &Path) -> Result<Vec<Output>> {
    let split_dir = work.join("split");
    let bindgen_dir = work.join("bindgen");
    for dir in [&split_dir, &bindgen_dir] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)?;
    }
    proc::run(ctx.cmd("wasm-split-cli").arg(wasm).arg(&split_dir).args([
        "--target",
        "web",
        "--out-name",
        NAME,
    ]))?;
    proc::run(
        ctx.cmd("wasm-bindgen")
            // The chunks import the main module's table and functions under their linker
            // names: without this flag wasm-bindgen drops them.
            .args(["--keep-lld-exports", "--target", "web", "--no-typescript"])
            .arg("--out-dir")
            .arg(&bindgen_dir)
            .args(["--out-name", NAME])
            .arg(split_dir.join(format!("{NAME}.wasm"))),
    )?;
    if bindgen_dir.join("snippets").exists() {
        bail!(
            "wasm-bindgen wrote JS snippets ({}): the release pipeline does not copy them yet",
            bindgen_dir.join("snippets").display()
        );
    }
    let mut chunks: Vec<String> = std::fs::read_dir(&split_dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wasm") && (n.starts_with("split_") || n.starts_with("chunk_")))
        .collect();
    chunks.sort();
    if chunks.is_empty() {
        bail!("wasm-split-cli wrote no chunk: are the split points (src/lazy.rs) compiled in?");
    }
    let mut modules = vec![(bindgen_dir.clone(), format!("{NAME}_bg.wasm"))];
    modules.extend(chunks.into_iter().map(|c| (split_dir.clone(), c)));
    let mut outputs = wasm_opt_all(ctx, &modules)?;
    outputs.push(read(&bindgen_dir, &format!("{NAME}.js"))?);
    outputs.push(read(&split_dir, SPLIT_LOADER)?);
    Ok(outputs)
}

/// `wasm-opt` on every module, two at a time (binaryen's npm build starts slowly, and
/// there are a couple of dozen modules); in the order given.
fn wasm_opt_all(ctx: &Ctx, modules: &[(PathBuf, String)]) -> Result<Vec<Output>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<(usize, Output)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some((dir, name)) = modules.get(i) else {
                            break;
                        };
                        done.push(wasm_opt(ctx, dir, name).map(|out| (i, out)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut outputs = results.into_iter().collect::<Result<Vec<_>>>()?;
    outputs.sort_by_key(|(i, _)| *i);
    Ok(outputs.into_iter().map(|(_, out)| out).collect())
}

fn read(dir: &Path, name: &str) -> Result<Output> {
    let bytes = std::fs::read(dir.join(name))
        .with_context(|| format!("reading {}", dir.join(name).display()))?;
    Ok(Output {
        from: name.to_owned(),
        to: name.to_owned(),
        bytes,
    })
}

/// `wasm-opt -Oz`, as Trunk runs it for `data-wasm-opt="z"`, into `<dir>/opt/`. The input
/// stays, names and all, for `twiggy` (where do the bytes go?).
fn wasm_opt(ctx: &Ctx, dir: &Path, name: &str) -> Result<Output> {
    let opt_dir = dir.join("opt");
    std::fs::create_dir_all(&opt_dir)?;
    proc::run(
        ctx.cmd("wasm-opt")
            .arg(dir.join(name))
            // The producers and target-features sections are for linkers and tools, not
            // for the browser (-0.25 K of brotli on the main module).
            .args(["-Oz", "--strip-producers", "--strip-target-features"])
            .arg("-o")
            .arg(opt_dir.join(name)),
    )?;
    read(&opt_dir, name)
}

/// Step 4: `<stem>-<hash>.<ext>` for every file (the hash of them all: they name one
/// another), the references between them rewritten, and the chunk fetches checked with SRI.
fn hash_names(mut outputs: Vec<Output>) -> Result<Vec<Output>> {
    let parts: Vec<&[u8]> = outputs.iter().map(|o| o.bytes.as_slice()).collect();
    let hash = format!("{:016x}", proc::fnv1a(&parts));
    for out in &mut outputs {
        out.to = match out.from.as_str() {
            SPLIT_LOADER => format!("{NAME}-{hash}-chunks.js"),
            name => {
                let (stem, ext) = name.rsplit_once('.').context("no extension")?;
                format!("{stem}-{hash}.{ext}")
            }
        };
    }
    let renamed = |from: &str| -> Result<String> {
        Ok(outputs
            .iter()
            .find(|o| o.from == from)
            .with_context(|| format!("no output named {from}"))?
            .to
            .clone())
    };
    let glue_name = format!("{NAME}.js");
    let main_wasm = format!("{NAME}_bg.wasm");
    // The glue imports the chunk loader (the main module imports from it) and names the
    // main module as its default URL.
    let mut glue = text(&outputs, &glue_name)?;
    // Only the import statements: the import object keeps the module name the main
    // module's imports use.
    glue = replace_all(
        &glue,
        &format!("from \"./{SPLIT_LOADER}\""),
        &format!("from \"./{}\"", renamed(SPLIT_LOADER)?),
    )?;
    glue = replace_all(
        &glue,
        &format!("'{main_wasm}'"),
        &format!("'{}'", renamed(&main_wasm)?),
    )?;
    // The chunk loader imports the glue's `initSync` and fetches each chunk.
    let mut loader = text(&outputs, SPLIT_LOADER)?;
    loader = replace_all(
        &loader,
        &format!("\"./{glue_name}\""),
        &format!("\"./{}\"", renamed(&glue_name)?),
    )?;
    for out in outputs
        .iter()
        .filter(|o| o.from.ends_with(".wasm") && o.from != main_wasm)
    {
        let old = format!("new URL(\"./{}\", import.meta.url)", out.from);
        let new = format!(
            "new URL(\"./{}\", import.meta.url), {{ integrity: \"{}\" }}",
            out.to,
            sri(&out.bytes)
        );
        loader = replace_all(&loader, &old, &new)?;
    }
    set_text(&mut outputs, &glue_name, glue)?;
    set_text(&mut outputs, SPLIT_LOADER, loader)?;
    Ok(outputs)
}

/// `terser` (from e2e/node_modules, like wasm-opt) on the wasm-bindgen glue and the chunk
/// loader, once step 4 has rewritten the names in them: both are fetched by every first
/// visit, and neither tool minifies what it writes (-2.1 K of brotli together). As ES
/// modules, so exported names stay.
fn minify_js(ctx: &Ctx, mut outputs: Vec<Output>, work: &Path) -> Result<Vec<Output>> {
    let dir = work.join("min");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    for out in outputs.iter_mut().filter(|o| o.to.ends_with(".js")) {
        let (input, output) = (dir.join(&out.from), dir.join(&out.to));
        std::fs::write(&input, &out.bytes)?;
        minify::terser(ctx, &input, &output, true)?;
        out.bytes = std::fs::read(&output)?;
    }
    Ok(outputs)
}

fn text(outputs: &[Output], from: &str) -> Result<String> {
    let out = outputs
        .iter()
        .find(|o| o.from == from)
        .with_context(|| format!("no output named {from}"))?;
    String::from_utf8(out.bytes.clone()).with_context(|| format!("{from} is not UTF-8"))
}

fn set_text(outputs: &mut [Output], from: &str, text: String) -> Result<()> {
    let out = outputs
        .iter_mut()
        .find(|o| o.from == from)
        .with_context(|| format!("no output named {from}"))?;
    out.bytes = text.into_bytes();
    Ok(())
}

/// Replaces every occurrence, and insists there is one: a new version of a tool that
/// writes its references differently must fail the build, not ship a broken app.
fn replace_all(text: &str, old: &str, new: &str) -> Result<String> {
    if !text.contains(old) {
        bail!("expected `{old}` in the generated JavaScript; did a tool's output change?");
    }
    Ok(text.replace(old, new))
}

/// The Subresource Integrity value of `bytes`.
pub fn sri(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Step 5: index.html with its `rel="rust"` link replaced by the loader's `<meta>` (from
/// Trunk.toml's `pattern_script`, as Trunk would write it) and the preloads, with SRI, of
/// the glue, the chunk loader and the main module.
/// What a first visit fetches besides the wasm, made smaller for the release: the HTML
/// without its comments (they are for people who read index.html: -0.35 K of brotli), and
/// the scripts of js/ and the styles of style/ that it names replaced by minified copies in
/// [`RELEASE_ASSETS`] (`terser` for the scripts, -1.1 K; comments and indentation out of the
/// CSS, -0.4 K). Trunk then hashes the copies and writes their SRI as it does for the
/// originals, which stay what `trunk serve` uses.
fn release_assets(ctx: &Ctx, html: String) -> Result<String> {
    let dir = ctx.root.join(RELEASE_ASSETS);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut html = minify::strip_html_comments(&html);
    for (folder, ext, attr) in [("js", ".js", "src"), ("style", ".css", "href")] {
        for entry in std::fs::read_dir(ctx.root.join(folder))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let named = format!(r#"{attr}="{folder}/{name}""#);
            if !name.ends_with(ext) || !html.contains(&named) {
                continue;
            }
            let source = ctx.root.join(folder).join(&name);
            let copy = dir.join(&name);
            if ext == ".js" {
                let module = html.contains(&format!(r#"{named} type="module""#));
                minify::terser(ctx, &source, &copy, module)?;
            } else {
                std::fs::write(&copy, minify::compact_css(&proc::read(&source)?)?)?;
            }
            html = html.replace(&named, &format!(r#"{attr}="{RELEASE_ASSETS}/{name}""#));
        }
    }
    Ok(html)
}

fn release_html(ctx: &Ctx, outputs: &[Output]) -> Result<String> {
    let html = proc::read(&ctx.root.join("index.html"))?;
    let trunk_toml: toml::Table =
        toml::from_str(&proc::read(&ctx.root.join("Trunk.toml"))?).context("parsing Trunk.toml")?;
    let pattern = trunk_toml
        .get("build")
        .and_then(|b| b.get("pattern_script"))
        .and_then(|p| p.as_str())
        .context("Trunk.toml has no [build] pattern_script (the loader's <meta>)")?;
    let find = |from: &str| {
        outputs
            .iter()
            .find(|o| o.from == from)
            .with_context(|| format!("no output named {from}"))
    };
    let glue = find(&format!("{NAME}.js"))?;
    let main = find(&format!("{NAME}_bg.wasm"))?;
    let loader = find(SPLIT_LOADER)?;
    let meta = pattern
        .replace("{base}", "/")
        .replace("{js}", &glue.to)
        .replace("{wasm}", &main.to);
    let mut tags = vec![meta];
    for module in [glue, loader] {
        tags.push(format!(
            r#"<link rel="modulepreload" href="/{}" crossorigin="anonymous" integrity="{}">"#,
            module.to,
            sri(&module.bytes)
        ));
    }
    tags.push(format!(
        r#"<link rel="preload" href="/{}" as="fetch" type="application/wasm" crossorigin="anonymous" integrity="{}">"#,
        main.to,
        sri(&main.bytes)
    ));
    // Trunk builds the Cargo project beside the HTML when no `rel="rust"` link is there:
    // the link stays, marked to be skipped, and `build` removes it from the output.
    let (start, end) = rust_link(&html)?;
    Ok(format!(
        "{}<link data-trunk-skip{}\n    {}{}",
        &html[..start],
        &html[start + "<link".len()..end],
        tags.join("\n    "),
        &html[end..]
    ))
}

/// The byte range of the one `<link data-trunk rel="rust" ...>` element.
fn rust_link(html: &str) -> Result<(usize, usize)> {
    let mut found = None;
    let mut from = 0;
    while let Some(at) = html[from..].find("<link") {
        let start = from + at;
        let end = start + html[start..].find('>').context("unclosed <link")? + 1;
        let tag = &html[start..end];
        if tag.contains("data-trunk") && tag.contains(r#"rel="rust""#) {
            if found.is_some() {
                bail!("index.html has more than one <link data-trunk rel=\"rust\">");
            }
            found = Some((start, end));
        }
        from = end;
    }
    found.context("index.html has no <link data-trunk rel=\"rust\"> to build")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_one_rust_link() {
        let html = r#"<head><link data-trunk rel="css" href="a.css"><link data-trunk rel="rust" data-bin="x"></head>"#;
        let (s, e) = rust_link(html).unwrap();
        assert_eq!(&html[s..e], r#"<link data-trunk rel="rust" data-bin="x">"#);
        assert!(rust_link("<head></head>").is_err());
        let two = r#"<link data-trunk rel="rust"><link data-trunk rel="rust">"#;
        assert!(rust_link(two).is_err());
    }

    #[test]
    fn sri_is_sha384_base64() {
        // `printf abc | openssl dgst -sha384 -binary | base64`
        assert_eq!(
            sri(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    #[test]
    fn a_missing_reference_fails_the_build() {
        assert!(replace_all("import './a.js'", "./b.js", "./c.js").is_err());
        assert_eq!(
            replace_all("'./a.js' './a.js'", "./a.js", "./b.js").unwrap(),
            "'./b.js' './b.js'"
        );
    }
}
