//! Loads that keep only each unit file's SHA-256 (`InputOptions::contents_as_digests`, what
//! `diff`, `check`, `deps`, `why` and `graph` ask for) answer as loads that keep the bytes.

use std::fs;
use std::path::{Path, PathBuf};
use unitdiff::InputOptions;
use unitdiff::diff::{FileChangeKind, diff};
use unitdiff::graph::DepGraph;
use unitdiff::report::unified::NOT_KEPT;
use unitdiff::unit::Content;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn open(root: &Path, digests: bool) -> DepGraph {
    let opts = InputOptions {
        contents_as_digests: digests,
        ..Default::default()
    };
    unitdiff::open_input_with(root, None, &[], &opts).expect("loads")
}

/// The diff and the JSON report of `old` → `new`, loaded with or without the bytes.
fn report(old: &Path, new: &Path, digests: bool) -> serde_json::Value {
    let (og, ng) = (open(old, digests), open(new, digests));
    let d = diff(&og, &ng, None);
    serde_json::json!({
        "diff": serde_json::to_value(&d).unwrap(),
        "json": unitdiff::report::json::diff(&d, &og, &ng),
    })
}

#[test]
fn digests_only_change_nothing_a_diff_reports() {
    for (old, new) in [
        ("debian-12", "debian-13"),
        ("coreos-899", "coreos-1010"),
        ("coreos-899-vendor", "coreos-1010-vendor"),
    ] {
        let (old, new) = (fixture(old), fixture(new));
        if !old.is_dir() || !new.is_dir() {
            panic!("fixture missing: {} or {}", old.display(), new.display());
        }
        let kept = report(&old, &new, false);
        assert_eq!(report(&old, &new, true), kept, "{}", new.display());
        // Not a pair without file changes: the digests are what decided.
        assert!(
            kept["diff"]["units_changed"]
                .as_array()
                .is_some_and(|c| c.iter().any(|u| !u["files"].as_array().unwrap().is_empty())),
            "{}: no file changed",
            new.display()
        );
    }
}

#[test]
fn a_comment_changed_is_a_file_changed_with_digests_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |side: &str| tmp.path().join(side).join("usr/lib/systemd/system");
    for (side, comment) in [("old", "# one"), ("new", "# two")] {
        fs::create_dir_all(dir(side)).unwrap();
        fs::write(
            dir(side).join("a.service"),
            format!("{comment}\n[Service]\nExecStart=/bin/true\n"),
        )
        .unwrap();
    }
    let (og, ng) = (
        open(&tmp.path().join("old"), true),
        open(&tmp.path().join("new"), true),
    );
    let frag = ng.set.units["a.service"].fragment.as_ref().unwrap();
    assert!(
        matches!(frag.content, Some(Content::Sha256(_))),
        "{:?}",
        frag.content
    );
    let d = diff(&og, &ng, None);
    let a = d.units_changed.iter().find(|c| c.name == "a.service");
    let files = a.map(|c| c.files.iter().map(|f| f.change).collect::<Vec<_>>());
    assert_eq!(files, Some(vec![FileChangeKind::Modified]));
}

#[test]
fn bytes_and_their_digest_are_the_same_content() {
    let bytes = |s: &str| Content::Bytes(s.as_bytes().into());
    let a = bytes("[Unit]\n");
    assert_eq!(a, a.to_digest());
    assert_eq!(a.to_digest(), a);
    assert_ne!(bytes("[Unit]\n").to_digest(), bytes("[Unit] \n"));
    assert_ne!(bytes("x"), bytes("y"));
    assert_eq!(a.to_digest().bytes(), None);
    assert_eq!(a.bytes(), Some(&b"[Unit]\n"[..]));
}

/// The commands that print unit files load their bytes: `diff -p`, the Markdown and HTML
/// reports, `check`'s Markdown, and `cat`.
#[test]
fn commands_that_print_files_print_their_text() {
    let run = |args: &[&str]| -> String {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_unitdiff"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.code().is_some_and(|c| c < 2), "{args:?}: {o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (old, new) = ("fixtures/coreos-899", "fixtures/coreos-1010");
    let line = "Requires=flanneld.service";
    for args in [
        &["-q", "diff", old, new, "-p"][..],
        &["-q", "diff", old, new, "--format", "markdown"],
        &["-q", "diff", old, new, "--format", "html"],
        &["-q", "check", old, new, "--format", "markdown"],
        &["-q", "cat", new, "docker.service"],
    ] {
        let out = run(args);
        assert!(out.contains(line), "{args:?} does not print {line}");
        // (Apostrophe-free: the HTML report escapes it.)
        assert!(!out.contains("SHA-256 was kept"), "{args:?}");
        assert!(NOT_KEPT.contains("SHA-256 was kept"));
    }
    // In a GitHub Actions step, `check --format github` writes the check's Markdown to the
    // step summary, patches included.
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_unitdiff"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-q", "check", old, new, "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c < 2), "{o:?}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains(line), "the step summary does not print {line}");
    assert!(!md.contains("SHA-256 was kept"));
}
