//! Records the git commit the binary is built from, for `unitdiff --version`: the
//! UNITDIFF_COMMIT environment variable when set (e.g. by a packager), else `git` in this
//! crate's own checkout, else "unknown commit (not built from a git checkout)". Also finds
//! the number of mimalloc's `purge_delay` option for src/main.rs ([`mimalloc_option`]).

use std::path::Path;
use std::process::Command;

#[path = "build/mimalloc_option.rs"]
mod mimalloc_option;

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    if !o.status.success() {
        return None;
    }
    let s = String::from_utf8(o.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn from_git() -> Option<String> {
    // Only this crate's own checkout: a source tree unpacked inside some other repository
    // (a packager's, a vendored copy) must not report that repository's commit.
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().ok()?;
    if Path::new(&top).canonicalize().ok()? != here {
        return None;
    }
    // Run again when HEAD moves (a commit, a checkout) or the compiled sources change.
    for p in ["HEAD", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", p]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(&["rev-parse", "--git-path", &r])
    {
        println!("cargo:rerun-if-changed={path}");
    }
    let compiled = ["src", "assets", "Cargo.toml", "Cargo.lock", "build.rs"];
    for p in compiled {
        println!("cargo:rerun-if-changed={p}");
    }
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    let date = git(&["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(compiled);
    // `git status` prints nothing for a clean tree; a failure counts as unknown, not clean.
    let dirty = match Command::new("git")
        .args(&status)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    {
        Ok(o) if o.status.success() => !o.stdout.is_empty(),
        _ => true,
    };
    Some(format!(
        "{hash}{} {date}",
        if dirty { "-modified" } else { "" }
    ))
}

fn main() {
    println!("cargo:rerun-if-env-changed=UNITDIFF_COMMIT");
    let commit = std::env::var("UNITDIFF_COMMIT")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(from_git)
        .unwrap_or_else(|| "unknown commit (not built from a git checkout)".to_string());
    println!("cargo:rustc-env=UNITDIFF_COMMIT={}", commit.trim());

    // src/main.rs turns mimalloc's purging off (docs/performance.md); it needs the option's
    // number in the mimalloc that libmimalloc-sys compiles (its `links` metadata gives the
    // header's directory). Without it the binary keeps mimalloc's default.
    println!("cargo:rerun-if-changed=build/mimalloc_option.rs");
    if let Some(dir) = std::env::var_os("DEP_MIMALLOC_INCLUDE_DIR") {
        let header = Path::new(&dir).join("mimalloc.h");
        println!("cargo:rerun-if-changed={}", header.display());
        match mimalloc_option::option_number(&header, "mi_option_purge_delay") {
            Some(n) => println!("cargo:rustc-env=UNITDIFF_MI_OPTION_PURGE_DELAY={n}"),
            None => println!(
                "cargo:warning=no mi_option_purge_delay in {}: mimalloc keeps purging",
                header.display()
            ),
        }
    }
}
