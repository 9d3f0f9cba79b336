//! Reports people look at: DOT, Markdown (with Mermaid), text with patches and colour,
//! rendered SVG/PNG with both renderers, and the output plumbing. Snapshots (insta) pin the
//! exact text of DOT, Markdown and the text report for the CoreOS story.

mod support;

use assert_cmd::Command;
use std::path::Path;

const OLD: &str = "fixtures/coreos-899";
const NEW: &str = "fixtures/coreos-1010";

fn root(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn unitdiff(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn coreos_dot(focus: &[&str]) -> String {
    let c = unitdiff::compare(&root(OLD), &root(NEW), None, None).unwrap();
    let sel = unitdiff::report::picture::Selection {
        focus: focus.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let p = unitdiff::report::picture::diff_picture(&c.diff, &c.old, &c.new, &sel);
    unitdiff::report::dot::print(&unitdiff::report::dot::graph(
        &p,
        "coreos-899 -> coreos-1010",
    ))
}

#[test]
fn dot_of_the_coreos_diff() {
    let dot = coreos_dot(&["docker.service"]);
    insta::assert_snapshot!("coreos_focus_docker.dot", dot);
    // The new edge is drawn as added (bold blue), with its kind.
    let line = dot
        .lines()
        .find(|l| {
            l.contains("\"docker.service\" -> \"flanneld.service\"") && l.contains("Requires")
        })
        .expect("docker -> flanneld Requires edge");
    assert!(line.contains("\"+ Requires\""), "{line}");
    assert!(
        line.contains("\"bold\"") && line.contains("#0072B2"),
        "{line}"
    );
    assert!(dot.contains("cluster_legend"));
}

#[test]
fn dot_parses_back_with_graphviz_rust() {
    let text = coreos_dot(&[]);
    let parsed = graphviz_rust::parse(&text).expect("graphviz-rust parses our DOT");
    let c = unitdiff::compare(&root(OLD), &root(NEW), None, None).unwrap();
    let p = unitdiff::report::picture::diff_picture(&c.diff, &c.old, &c.new, &Default::default());
    assert_eq!(
        parsed,
        unitdiff::report::dot::graph(&p, "coreos-899 -> coreos-1010")
    );
}

#[test]
#[ignore = "needs Graphviz dot"]
fn graphviz_dot_reads_our_dot() {
    let text = coreos_dot(&[]);
    let dot = support::tools::require("dot", "graphviz");
    let mut child = std::process::Command::new(dot)
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` is installed");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "dot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("flanneld.service"));
}

#[test]
fn dot_escapes_backslashes_in_unit_names() {
    // Unit names carry literal `\x2d`; Graphviz must get `\\x2d`.
    let g = unitdiff::load_dir(&root("fixtures/rules/templates"), Default::default()).unwrap();
    let p = unitdiff::report::picture::graph_picture(
        &g,
        &unitdiff::report::picture::Selection {
            implicit: true,
            ..Default::default()
        },
    );
    let dot = unitdiff::report::dot::print(&unitdiff::report::dot::graph(&p, "t"));
    assert!(dot.contains("system-a\\\\x2db\\\\x2dc.slice"), "{dot}");
    graphviz_rust::parse(&dot).expect("parses");
}

#[test]
fn markdown_of_the_coreos_diff() {
    let o = unitdiff(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "markdown",
        "--focus",
        "docker.service",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let md = stdout(&o);
    insta::assert_snapshot!("coreos_focus_docker.md", md);
    assert!(md.contains("```mermaid\nflowchart LR"));
}

/// The Markdown report rendered by a real CommonMark/GFM renderer.
#[test]
#[ignore = "needs cmark-gfm"]
fn cmark_gfm_renders_the_markdown() {
    let cmark = support::tools::require("cmark-gfm", "cmark-gfm");
    let o = unitdiff(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "markdown",
        "--focus",
        "docker.service",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let md = stdout(&o);
    let mut child = std::process::Command::new(cmark)
        .args(["-e", "table", "-e", "autolink", "--unsafe"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cmark-gfm is installed");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(md.as_bytes())
        .unwrap();
    let html = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    assert!(
        html.contains("<table>") && html.contains("<td>units changed</td>"),
        "{html}"
    );
    assert!(
        html.contains("<pre><code class=\"language-mermaid\">flowchart LR"),
        "{html}"
    );
    assert!(html.contains("<details><summary>diff of <code>/etc/systemd/system/docker.service.d/40-flannel.conf</code></summary>"), "{html}");
    assert!(
        html.contains("<h3><code>docker.service</code></h3>"),
        "{html}"
    );
}

#[test]
fn text_report_snapshot() {
    let o = unitdiff(&["diff", OLD, NEW, "--color", "never"]);
    insta::assert_snapshot!("coreos.txt", stdout(&o));
}

#[test]
fn patch_shows_the_dropin_as_new_and_flanneld_changes() {
    let o = unitdiff(&["diff", OLD, NEW, "-p", "--color", "never"]);
    let text = stdout(&o);
    let dropin = "etc/systemd/system/docker.service.d/40-flannel.conf";
    assert!(
        text.contains(&format!(
            "diff --unitdiff a/{dropin} b/{dropin}\nnew file\n--- /dev/null\n+++ b/{dropin}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("+Requires=flanneld.service\n+After=flanneld.service\n"),
        "{text}"
    );
    let flanneld = "usr/lib64/systemd/system/flanneld.service";
    assert!(
        text.contains(&format!("--- a/{flanneld}\n+++ b/{flanneld}\n")),
        "{text}"
    );
    assert!(
        text.contains("+[Install]\n+WantedBy=multi-user.target\n"),
        "{text}"
    );
    assert!(
        text.contains("+Environment=\"FLANNEL_IMG=quay.io/coreos/flannel\"\n"),
        "{text}"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let esc = |o: &std::process::Output| o.stdout.contains(&0x1b);
    // Piped (not a terminal): none.
    assert!(!esc(&unitdiff(&["diff", OLD, NEW])));
    // Forced: present.
    let forced = unitdiff(&["diff", OLD, NEW, "--color", "always"]);
    assert!(esc(&forced));
    assert!(
        stdout(&forced).contains("\u{1b}[32m  + Requires"),
        "{}",
        stdout(&forced)
    );
    // NO_COLOR wins over auto, even on a terminal (here: piped, so auto is off anyway).
    let o = Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["diff", OLD, NEW])
        .output()
        .unwrap();
    assert!(!esc(&o));
}

#[test]
fn output_to_a_file_and_write_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("d.dot");
    let o = unitdiff(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "dot",
        "-o",
        f.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(std::fs::read_to_string(&f).unwrap().starts_with("digraph"));
    let bad = dir.path().join("missing-dir/d.dot");
    let o = unitdiff(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "dot",
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("unitdiff: error: cannot write ") && err.lines().count() == 1,
        "{err}"
    );
    // A full disk: /dev/full.
    let o = unitdiff(&["diff", OLD, NEW, "-o", "/dev/full"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn is_png(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG\r\n\x1a\n")
}

#[test]
fn images_with_the_builtin_renderer() {
    images_with("builtin");
}

#[test]
#[ignore = "needs Graphviz dot"]
fn images_with_graphviz() {
    support::tools::require("dot", "graphviz");
    images_with("graphviz");
}

fn images_with(renderer: &str) {
    let dir = tempfile::tempdir().unwrap();
    {
        for format in ["svg", "png"] {
            let f = dir.path().join(format!("docker-{renderer}.{format}"));
            let o = unitdiff(&[
                "diff",
                OLD,
                NEW,
                "--format",
                format,
                "--focus",
                "docker.service",
                "--renderer",
                renderer,
                "-o",
                f.to_str().unwrap(),
            ]);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{renderer} {format}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let bytes = std::fs::read(&f).unwrap();
            if format == "png" {
                assert!(is_png(&bytes), "{renderer}: not a PNG");
            } else {
                let svg = String::from_utf8(bytes).unwrap();
                assert!(svg.contains("<svg"), "{renderer}");
                assert!(
                    svg.contains("flanneld.service") && svg.contains("+ Requires"),
                    "{renderer}: {svg}"
                );
            }
        }
    }
}

/// A PNG is not written to a terminal (util-linux `script` gives the command a pty).
#[test]
#[ignore = "needs script (util-linux)"]
fn png_refuses_a_terminal() {
    let script = support::tools::require("script", "util-linux (bsdutils)");
    let bin = assert_cmd::cargo::cargo_bin("unitdiff");
    let cmd = format!(
        "{} diff {OLD} {NEW} --format png --renderer builtin; echo \"rc=$?\"",
        bin.display()
    );
    let o = std::process::Command::new(script)
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("refusing to write a PNG image to a terminal"),
        "{text}"
    );
    assert!(text.contains("rc=2"), "{text}");
    assert!(!text.contains("PNG\r\n"), "PNG bytes reached the terminal");
}

/// `--kinds` keeps only those dependency kinds in a picture.
#[test]
fn kinds_filter_pictures() {
    let o = unitdiff(&["diff", OLD, NEW, "--format", "dot", "--kinds", "requires"]);
    use graphviz_rust::dot_structures::{Attribute, Graph, Id, Stmt};
    let Graph::DiGraph { stmts, .. } = graphviz_rust::parse(&stdout(&o)).unwrap() else {
        panic!("not a digraph")
    };
    let labels: std::collections::BTreeSet<String> = stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Edge(e) => e
                .attributes
                .iter()
                .find_map(|Attribute(k, v)| match (k, v) {
                    (Id::Plain(k), Id::Escaped(v)) if k == "label" => {
                        Some(v.trim_matches('"').to_string())
                    }
                    _ => None,
                }),
            _ => None,
        })
        .collect();
    assert_eq!(
        labels,
        ["+ Requires".to_string(), "Requires".to_string()]
            .into_iter()
            .collect()
    );
    let o = unitdiff(&["diff", OLD, NEW, "--format", "dot", "--kinds", "nonsense"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Without Graphviz on PATH: the builtin renderer (Graphviz's layout in process) draws,
/// `graphviz` (the system's `dot`) is a clear error.
#[test]
fn pictures_without_graphviz() {
    let empty = tempfile::tempdir().unwrap();
    let run = |renderer: &str| {
        Command::cargo_bin("unitdiff")
            .unwrap()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("PATH", empty.path())
            .args([
                "diff",
                OLD,
                NEW,
                "--format",
                "svg",
                "--focus",
                "docker.service",
                "--renderer",
                renderer,
            ])
            .output()
            .unwrap()
    };
    let o = run("builtin");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let svg = stdout(&o);
    assert!(svg.contains("<svg") && svg.contains("flanneld.service") && svg.contains("+ Requires"));
    let o = run("graphviz");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Graphviz") && err.contains("not found"),
        "{err}"
    );
}
