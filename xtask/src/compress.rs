//! Precompressed copies of the SPA's files: `name.br` (brotli q11) and `name.gz` (gzip -9)
//! beside every file of `dist/`, written once at build time so the server (and any static
//! host that looks for them) sends the smallest encoding a browser accepts without
//! compressing on each request.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Brotli at its maximum quality with the usual 4 MiB window (`brotli -q 11`).
const BROTLI_QUALITY: u32 = 11;
const BROTLI_LGWIN: u32 = 22;

/// The suffixes of the variants this step writes.
const VARIANTS: [&str; 2] = [".br", ".gz"];

/// Whether `name` is a variant written here rather than a file of the build.
pub fn is_variant(name: &str) -> bool {
    VARIANTS.iter().any(|suffix| name.ends_with(suffix))
}

/// Writes the variants of every file under `dir`, replacing stale ones. A variant that
/// would not be smaller than its file is not written (and an old one is removed): the
/// server then sends the file as it is.
pub fn dist(dir: &Path) -> Result<Summary> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    let mut summary = Summary::default();
    for file in files {
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        summary.files += 1;
        summary.raw += bytes.len() as u64;
        for (suffix, encoded) in [(".br", brotli(&bytes)?), (".gz", gzip(&bytes)?)] {
            let target = PathBuf::from(format!("{}{suffix}", file.display()));
            if encoded.len() < bytes.len() {
                std::fs::write(&target, &encoded)
                    .with_context(|| format!("writing {}", target.display()))?;
                if suffix == ".br" {
                    summary.brotli += encoded.len() as u64;
                }
            } else {
                let _ = std::fs::remove_file(&target);
                if suffix == ".br" {
                    summary.brotli += bytes.len() as u64;
                }
            }
        }
    }
    Ok(summary)
}

/// What [`dist`] did: files, their raw bytes, and what a brotli-accepting browser gets.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: u64,
    pub raw: u64,
    pub brotli: u64,
}

/// Every file of the build under `dir`, not the variants.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if !is_variant(&path.to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc =
        brotli::CompressorWriter::new(Vec::new(), 64 * 1024, BROTLI_QUALITY, BROTLI_LGWIN);
    enc.write_all(bytes)?;
    enc.flush()?;
    Ok(enc.into_inner())
}

pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn temp() -> PathBuf {
        crate::proc::temp_dir("xtask-compress-test").unwrap()
    }

    #[test]
    fn every_file_gets_a_brotli_and_a_gzip_copy_that_decodes_to_it() {
        let dir = temp();
        let text = "fn main() { println!(\"microblog\"); }\n".repeat(200);
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), &text).unwrap();
        std::fs::write(dir.join("assets/app.js"), &text).unwrap();

        let summary = dist(&dir).unwrap();

        assert_eq!(summary.files, 2);
        for name in ["index.html", "assets/app.js"] {
            let br = std::fs::read(dir.join(format!("{name}.br"))).unwrap();
            let mut decoded = Vec::new();
            brotli::Decompressor::new(br.as_slice(), 4096)
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, text.as_bytes(), "{name}.br");
            let gz = std::fs::read(dir.join(format!("{name}.gz"))).unwrap();
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(gz.as_slice())
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, text.as_bytes(), "{name}.gz");
        }
        // A second run compresses the files, not the copies.
        assert_eq!(dist(&dir).unwrap(), summary);
        assert!(!dir.join("index.html.br.br").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_copy_that_would_not_be_smaller() {
        let dir = temp();
        std::fs::write(dir.join("tiny.txt"), "a").unwrap();
        std::fs::write(dir.join("tiny.txt.br"), "stale").unwrap();

        dist(&dir).unwrap();

        assert!(!dir.join("tiny.txt.br").exists());
        assert!(!dir.join("tiny.txt.gz").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
