//! Outputs that would attack the reader: terminal control sequences (ESC[2J, OSC 52, OSC 0,
//! OSC 8, C1 CSI), line breaks, backticks and raw HTML carried by a drop-in *file name*, a
//! unit's content, a symlink target and the version string in the manager binary. Every
//! command and format runs on an image holding all of them; no output may carry one as a
//! control sequence or as live markup.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

/// Terminal payloads (each would act if printed raw) and markup payloads.
const CLEAR: &str = "\x1b[2J";
const CLIPBOARD: &str = "\x1b]52;c;ZXZpbA==\x07";
const TITLE: &str = "\x1b]0;pwned\x07";
const LINK: &str = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\";
const C1: &str = "\u{9b}31m";
const IMG: &str = "<img src=x onerror=alert(1)>";

/// A drop-in file name carrying every payload a file name can hold (no `/`).
fn dropin_name() -> String {
    format!("10-x{CLEAR}{CLIPBOARD}{TITLE}{C1}`\n\n# Heading\n{IMG}\n<details open>``.conf")
}

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// OLD: a.service wants b.service. NEW: the same plus a hostile drop-in, a hostile symlink
/// target and a hostile version string.
fn images() -> (TempDir, TempDir) {
    let (old, new) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for root in [old.path(), new.path()] {
        write(
            root,
            "usr/lib/systemd/system/a.service",
            "[Unit]\nDescription=a\nWants=b.service\n[Service]\nExecStart=/bin/true\n",
        );
        write(
            root,
            "usr/lib/systemd/system/b.service",
            "[Service]\nExecStart=/bin/true\n",
        );
        write(
            root,
            "usr/lib/systemd/system/real-c.service",
            "[Service]\nExecStart=/bin/true\n",
        );
    }
    let n = new.path();
    write(
        n,
        &format!("etc/systemd/system/a.service.d/{}", dropin_name()),
        format!(
            "[Unit]\nDescription={TITLE}{CLEAR}\nWants=c.service\nAfter=c.service\n\
             [Service]\nEnvironment=X={LINK}{IMG}\tTAB\nExecStart=/bin/echo {CLIPBOARD}\n"
        ),
    );
    // c.service is a link to a unit file in a directory named with payloads.
    let evil_dir = format!("opt/d{TITLE}{CLEAR}\n{IMG}");
    write(
        n,
        &format!("{evil_dir}/c.service"),
        "[Service]\nExecStart=/bin/true\n",
    );
    symlink(
        format!("/{evil_dir}/c.service"),
        n.join("usr/lib/systemd/system/c.service"),
    )
    .unwrap();
    // The manager binary's version string.
    write(
        n,
        "usr/lib/systemd/systemd",
        // (No space: the version string ends at one.)
        format!(
            "\0\0systemd 252.1{TITLE}{CLEAR}<img/src=x/onerror=alert(1)> running in system mode\0"
        ),
    );
    (old, new)
}

fn unitdiff(args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("unitdiff"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// No control character other than newline and tab (and no ESC at all, so no sequence).
fn assert_no_controls(what: &str, bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    for (i, c) in s.char_indices() {
        let bad = (c < ' ' && c != '\n' && c != '\t')
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c);
        assert!(
            !bad,
            "{what}: control character {c:?} at byte {i}:\n{}",
            s.chars()
                .skip(s[..i].chars().count().saturating_sub(60))
                .take(80)
                .collect::<String>()
        );
    }
}

/// Every run of every command and format on the hostile images.
fn runs(old: &Path, new: &Path) -> Vec<(String, Output)> {
    let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for f in ["text", "json", "markdown", "dot"] {
        let mut diff = vec!["diff", o, n, "--format", f];
        // --implicit draws more of the picture (text and JSON refuse it).
        if matches!(f, "markdown" | "dot") {
            diff.push("--implicit");
        }
        cases.push(diff);
        cases.push(vec!["graph", n, "--format", f]);
    }
    cases.push(vec!["diff", o, n, "-p"]);
    cases.push(vec!["diff", o, n, "-p", "--color", "always"]);
    cases.push(vec![
        "diff",
        o,
        n,
        "--format",
        "svg",
        "--renderer",
        "builtin",
    ]);
    cases.push(vec!["graph", n, "--format", "svg", "--renderer", "builtin"]);
    for f in ["text", "json"] {
        cases.push(vec![
            "deps",
            n,
            "a.service",
            "--why",
            "--all",
            "--format",
            f,
        ]);
        cases.push(vec!["deps", o, n, "a.service", "--why", "--format", f]);
        cases.push(vec!["why", n, "a.service", "real-c.service", "--format", f]);
    }
    cases.push(vec!["deps", o, n, "a.service", "--format", "dot"]);
    cases.push(vec!["cat", n, "a.service"]);
    cases.push(vec!["cat", n, "c.service"]);
    cases
        .into_iter()
        .map(|args| (args.join(" "), unitdiff(&args)))
        .collect()
}

#[test]
fn no_control_sequence_reaches_stdout_or_stderr() {
    let (old, new) = images();
    for (what, out) in runs(old.path(), new.path()) {
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{what}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if what.contains("--color always") {
            // Only our own styling (SGR `ESC[…m`) may appear.
            let s = String::from_utf8_lossy(&out.stdout);
            for part in s.split('\x1b').skip(1) {
                let sgr = part
                    .strip_prefix('[')
                    .and_then(|p| p.split_once('m'))
                    .is_some_and(|(params, _)| {
                        params.chars().all(|c| c.is_ascii_digit() || c == ';')
                    });
                assert!(sgr, "{what}: non-SGR escape {part:?}");
            }
        } else {
            assert_no_controls(&format!("{what} (stdout)"), &out.stdout);
        }
        assert_no_controls(&format!("{what} (stderr)"), &out.stderr);
        if what.contains("svg") {
            let svg = String::from_utf8_lossy(&out.stdout);
            assert!(
                svg.starts_with("<?xml") || svg.starts_with("<svg"),
                "{what}"
            );
            assert!(!svg.contains("<img"), "{what}: live markup\n{svg}");
        }
    }
}

#[test]
fn payloads_are_shown_not_dropped() {
    let (old, new) = images();
    let n = new.path().to_str().unwrap();
    let cat = unitdiff(&["cat", n, "a.service"]);
    let text = String::from_utf8(cat.stdout).unwrap();
    // The file name is one line, its escapes visible; the content keeps its tab.
    assert!(
        text.contains("10-x\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07\\x1b]0;pwned\\x07\\u{9b}31m`\\n\\n# Heading\\n<img"),
        "{text}"
    );
    assert!(text.contains("Environment=X=\\x1b]8;;http://evil.example/\\x1b\\click"));
    assert!(text.contains("\tTAB\n"), "{text}");
    let cat = unitdiff(&["cat", n, "c.service"]);
    let text = String::from_utf8(cat.stdout).unwrap();
    assert!(
        text.contains(
            "-> /opt/d\\x1b]0;pwned\\x07\\x1b[2J\\n<img src=x onerror=alert(1)>/c.service"
        ),
        "{text}"
    );
    let graph = unitdiff(&["graph", n]);
    let text = String::from_utf8(graph.stdout).unwrap();
    assert!(
        text.contains("252.1\\x1b]0;pwned\\x07\\x1b[2J<img/src"),
        "{text}"
    );
    drop(old);
}

/// Markdown rendered by a real GFM renderer with raw HTML allowed (as forges allow
/// `<details>` and `<img>`): nothing from the image becomes an element.
#[test]
#[ignore = "needs cmark-gfm"]
fn markdown_renders_no_markup_from_the_image() {
    let (old, new) = images();
    let (o, n) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    for args in [
        vec!["diff", o, n, "--format", "markdown", "--implicit"],
        vec!["graph", n, "--format", "markdown"],
    ] {
        let out = unitdiff(&args);
        let md = String::from_utf8(out.stdout).unwrap();
        use std::io::Write;
        let mut child = Command::new("cmark-gfm")
            .args(["-e", "table", "-e", "autolink", "--unsafe"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cmark-gfm is installed");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(md.as_bytes())
            .unwrap();
        let html = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
        assert!(!html.contains("<img"), "{args:?}: live <img>:\n{html}");
        assert!(
            !html.contains("<h1>Heading"),
            "{args:?}: injected heading:\n{html}"
        );
        // Exactly the <details> blocks we opened, each closed by us.
        assert_eq!(
            html.matches("<details>").count(),
            html.matches("</details>").count(),
            "{html}"
        );
        if args[0] == "diff" {
            assert!(
                html.contains("&lt;img src=x onerror=alert(1)&gt;"),
                "{html}"
            );
            assert_eq!(html.matches("<details>").count(), 1, "{html}");
        }
    }
}

/// Graphviz draws the DOT into SVG: the SVG is well-formed XML with no element from the
/// image.
#[test]
#[ignore = "needs Graphviz dot"]
fn graphviz_svg_has_no_markup_from_the_image() {
    let (old, new) = images();
    let (o, n) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    let out = unitdiff(&[
        "diff",
        o,
        n,
        "--format",
        "svg",
        "--renderer",
        "graphviz",
        "--implicit",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_controls("graphviz svg", &out.stdout);
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(!svg.contains("<img"), "{svg}");
}

/// The HTML report's data blocks are parsed by its script and shown with `textContent`:
/// after `JSON.parse` no string in them may hold a control, bidirectional or invisible
/// character (they were JSON-escaped, so the page source was clean, but the changed files'
/// paths and the listed findings' sites reached the rendered page raw).
#[test]
fn html_data_blocks_hold_no_raw_controls_once_parsed() {
    let (old, new) = images();
    let (o, n) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    let out = unitdiff(&["diff", o, n, "--format", "html"]);
    assert!(matches!(out.status.code(), Some(0..=1)), "{out:?}");
    let page = String::from_utf8(out.stdout).unwrap();
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(m) => m.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut blocks = 0;
    let mut all = Vec::new();
    for part in page
        .split("<script type=\"application/json\" id=\"")
        .skip(1)
    {
        let (id, rest) = part.split_once("\">").unwrap();
        let body = &rest[..rest.find("</script>").unwrap()];
        let v: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{id}: {e}"));
        let mut found = Vec::new();
        strings(&v, &mut found);
        for s in &found {
            let bad = s.chars().find(|&c| {
                c < ' '
                    || ('\u{7f}'..='\u{9f}').contains(&c)
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)
                    || ('\u{200b}'..='\u{200f}').contains(&c)
            });
            assert!(bad.is_none(), "{id}: {bad:?} raw in {s:?}");
        }
        blocks += 1;
        all.extend(found);
    }
    assert_eq!(blocks, 3, "data, files-data, findings-data");
    // The hostile drop-in is listed among the changed files, escaped.
    assert!(all.iter().any(|s| s.contains("10-x\\x1b[2J")), "{all:?}");
}
