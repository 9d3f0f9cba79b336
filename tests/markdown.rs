//! Markdown that a forge can show: under `--max-chars` (60,000 by default, a GitHub comment
//! holds 65,536) with a note on what was cut, and Mermaid blocks within Mermaid's default
//! limits (50,000 characters, 500 edges). The ignored tests render every block with the real
//! Mermaid (mermaid-cli in a headless Chromium, via scripts/check-mermaid.sh).

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

const OLD: &str = "fixtures/coreos-899";
const NEW: &str = "fixtures/coreos-1010";

fn unitdiff(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// An upgrade the size of a distribution's: NEW adds 300 services, each with a hard
/// dependency on a new helper, wanted by one of a few targets, and changes 200 old ones.
fn big_upgrade(dir: &Path) -> (PathBuf, PathBuf) {
    let (old, new) = (dir.join("old"), dir.join("new"));
    let lib = "usr/lib/systemd/system";
    for root in [&old, &new] {
        for t in 0..5 {
            write(
                root,
                &format!("{lib}/group{t}.target"),
                "[Unit]\nDescription=group\n",
            );
        }
    }
    for i in 0..200 {
        let body = format!("[Unit]\nDescription=old service {i}\n[Service]\nExecStart=/bin/true\n");
        write(&old, &format!("{lib}/old{i:03}.service"), &body);
        write(
            &new,
            &format!("{lib}/old{i:03}.service"),
            &format!("{body}Environment=VERSION=2\nAfter=group{}.target\n", i % 5),
        );
    }
    for i in 0..300 {
        write(
            &new,
            &format!("{lib}/new-service-with-a-long-name-{i:03}.service"),
            &format!(
                "[Unit]\nDescription=new service {i}\nRequires=helper{i:03}.service\n\
                 After=helper{i:03}.service\nWants=old{:03}.service\n\
                 [Service]\nExecStart=/bin/true --with-an-option={i}\nEnvironment=A=1 B=2 C=3\n[Install]\nWantedBy=group{}.target\n",
                i % 200,
                i % 5
            ),
        );
        write(
            &new,
            &format!("{lib}/helper{i:03}.service"),
            "[Unit]\nDescription=helper\n[Service]\nExecStart=/bin/true\n",
        );
        let link = new.join(format!(
            "{lib}/group{}.target.wants/new-service-with-a-long-name-{i:03}.service",
            i % 5
        ));
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(
            format!("../new-service-with-a-long-name-{i:03}.service"),
            link,
        )
        .unwrap();
    }
    (old, new)
}

/// The ```mermaid blocks of a Markdown document.
fn mermaid_blocks(md: &str) -> Vec<&str> {
    md.split("```mermaid\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("\n```").expect("closed block")])
        .collect()
}

/// Edge lines as Mermaid counts them (one per arrow).
fn edges(block: &str) -> usize {
    block
        .lines()
        .filter(|l| ["-->", "==>", "-.->"].iter().any(|a| l.contains(a)))
        .count()
}

#[test]
fn a_large_diff_is_cut_at_max_chars_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = big_upgrade(dir.path());
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());

    let whole = unitdiff(&[
        "-q",
        "diff",
        old,
        new,
        "--format",
        "markdown",
        "--max-chars",
        "0",
    ]);
    assert_eq!(whole.status.code(), Some(1));
    let whole = String::from_utf8(whole.stdout).unwrap();
    assert!(whole.chars().count() > 100_000, "{}", whole.len());
    assert!(!whole.contains("**Cut at"));

    let md = unitdiff(&["-q", "diff", old, new, "--format", "markdown"]);
    assert_eq!(md.status.code(), Some(1));
    let md = String::from_utf8(md.stdout).unwrap();
    let n = md.chars().count();
    assert!(n <= 60_000, "{n} characters");
    // Most of the budget is used, and the cut says what it left out and how to get it all.
    assert!(n > 50_000, "{n} characters");
    let note = md.lines().last().unwrap();
    assert!(
        note.starts_with("**Cut at 60,000 characters**: left out "),
        "{note}"
    );
    assert!(note.contains("changed units (`"), "{note}");
    assert!(
        note.contains("file diffs") || !whole.contains("## File diffs"),
        "{note}"
    );
    assert!(note.contains("`--max-chars 0`"), "{note}");
    // What is kept is the start of the whole report, cut between pieces (never inside a
    // code block or <details>).
    let kept = md.rsplit_once("---\n\n**Cut at").unwrap().0;
    // (The last unit's list may be cut between its lines.)
    let (whole_units, last) = kept.rsplit_once("\n### ").unwrap();
    assert!(whole.starts_with(whole_units));
    if let Some((listed, _)) = last.split_once("- … ") {
        assert!(whole.contains(&format!("\n### {listed}")));
        assert!(note.contains(" in part to "), "{note}");
    }
    assert_eq!(kept.matches("```").count() % 2, 0);
    assert_eq!(
        kept.matches("<details>").count(),
        kept.matches("</details>").count()
    );
    // Summary first.
    assert!(md.starts_with("# systemd dependency changes:"));
    assert!(md.contains("| units added | 600 |"), "{}", &md[..800]);

    // The diagram is an excerpt within Mermaid's limits, most important changes first
    // (the new hard dependencies), and says what it leaves out.
    let blocks = mermaid_blocks(&md);
    assert_eq!(blocks.len(), 1);
    let b = blocks[0];
    assert!(
        b.len() <= 50_000 && edges(b) < 500,
        "{} chars {} edges",
        b.len(),
        edges(b)
    );
    assert!(b.contains("+ Requires"), "{b}");
    let line = md
        .lines()
        .find(|l| l.starts_with("*The whole picture is too large to draw here"))
        .expect("a note under the diagram");
    assert!(line.contains(" more are not drawn: `"), "{line}");
    // Even without a character limit the diagram stays within Mermaid's limits.
    let b = mermaid_blocks(&whole)[0];
    assert!(b.len() <= 50_000 && edges(b) < 500);

    // A smaller limit is honoured too.
    let small = unitdiff(&[
        "-q",
        "diff",
        old,
        new,
        "--format",
        "markdown",
        "--max-chars",
        "9000",
    ]);
    let small = String::from_utf8(small.stdout).unwrap();
    assert!(small.chars().count() <= 9_000, "{}", small.chars().count());
    assert!(small.contains("**Cut at 9,000 characters**"));
}

#[test]
fn a_small_diff_is_whole() {
    let o = unitdiff(&["diff", OLD, NEW, "--format", "markdown"]);
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(!md.contains("**Cut at"));
    assert!(!md.contains("too large to draw"));
    let b = mermaid_blocks(&md);
    assert_eq!(b.len(), 1);
    assert!(b[0].contains("==>|\"+ Requires, After\"|"), "{}", b[0]);
    // File diffs come after every unit's section.
    let units = md.find("## Changed units").unwrap();
    let diffs = md.find("## File diffs").unwrap();
    assert!(units < diffs);
    assert!(!md[units..diffs].contains("<details>"));
}

#[test]
fn graph_markdown_of_a_large_tree_stays_within_mermaids_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (_, new) = big_upgrade(dir.path());
    let o = unitdiff(&["-q", "graph", new.to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0));
    let md = String::from_utf8(o.stdout).unwrap();
    let b = mermaid_blocks(&md);
    assert_eq!(b.len(), 1);
    assert!(b[0].len() <= 50_000 && edges(b[0]) < 500);
    assert!(md.contains("too large to draw here"), "{md}");
}

/// Run scripts/check-mermaid.sh (after its idempotent --setup) on `md`.
fn check_mermaid(dir: &Path, name: &str, md: &str) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-mermaid.sh");
    let setup = std::process::Command::new(&script)
        .arg("--setup")
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "check-mermaid.sh --setup (needs npm and chromium): {}{}",
        String::from_utf8_lossy(&setup.stdout),
        String::from_utf8_lossy(&setup.stderr)
    );
    let file = dir.join(format!("{name}.md"));
    fs::write(&file, md).unwrap();
    std::process::Command::new(&script)
        .arg(&file)
        .arg(dir.join("out"))
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs npm and chromium (mermaid-cli renders the diagrams)"]
fn every_mermaid_block_renders() {
    let dir = tempfile::tempdir().unwrap();
    let coreos = unitdiff(&["diff", OLD, NEW, "--format", "markdown"]);
    let o = check_mermaid(
        dir.path(),
        "coreos",
        &String::from_utf8(coreos.stdout).unwrap(),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("ok   ") && out.contains("coreos.md block 1"),
        "{out}"
    );
    let svg = fs::read_to_string(dir.path().join("out/coreos-1.svg")).unwrap();
    assert!(svg.contains("flanneld.service"));

    let (old, new) = big_upgrade(dir.path());
    let big = unitdiff(&[
        "-q",
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    let o = check_mermaid(dir.path(), "big", &String::from_utf8(big.stdout).unwrap());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("ok   ") && out.contains("big.md block 1"),
        "{out}"
    );
}

#[test]
#[ignore = "needs npm and chromium (mermaid-cli renders the diagrams)"]
fn check_mermaid_fails_on_diagrams_mermaid_refuses() {
    let dir = tempfile::tempdir().unwrap();
    // Over maxTextSize: mmdc itself succeeds, drawing Mermaid's error picture.
    let mut big = String::from("# big\n\n```mermaid\nflowchart LR\n");
    for i in 0..1_000 {
        big.push_str(&format!(
            "  n{i}[\"a label long enough to add up {i}\"] --> n{}\n",
            i + 1
        ));
    }
    big.push_str("```\n");
    assert!(big.len() > 50_000);
    let o = check_mermaid(dir.path(), "big", &big);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("Maximum text size in diagram exceeded"),
        "{out}"
    );

    // maxEdges: 501 short edges (500 are allowed), well under the text limit.
    let mut many = String::from("```mermaid\nflowchart LR\n");
    for i in 0..501 {
        many.push_str(&format!("  a{i} --> a{}\n", i + 1));
    }
    many.push_str("```\n");
    assert!(many.len() < 50_000);
    let o = check_mermaid(dir.path(), "many", &many);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("Edge limit exceeded"), "{out}");

    // A syntax error, with the offending line.
    let o = check_mermaid(
        dir.path(),
        "bad",
        "```mermaid\nflowchart LR\n  a --> b[[[\n```\n",
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("Parse error on line 2") && out.contains("a --> b[[["),
        "{out}"
    );
}
