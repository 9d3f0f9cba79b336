//! The command line's own promises: every argument documented, each command offering only
//! the formats it writes, options that do not apply refused, `--version`, `diff --stat` and
//! `--name-only`, shell completions and the manual page.

mod support;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;

const OLD: &str = "fixtures/coreos-899";
const NEW: &str = "fixtures/coreos-1010";

const SUBCOMMANDS: &[&str] = &[
    "diff",
    "check",
    "rules",
    "explain",
    "deps",
    "why",
    "snapshot",
    "cat",
    "graph",
    "completions",
    "man",
];

fn unitdiff(args: &[&str]) -> Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_code(o: &Output, code: i32, args: &[&str]) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "unitdiff {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

/// Runs `args`, expects usage-or-input error 2 with `needle` on stderr and nothing on stdout.
#[track_caller]
fn assert_refused(args: &[&str], needle: &str) {
    let o = unitdiff(args);
    assert_code(&o, 2, args);
    assert!(o.stdout.is_empty(), "{args:?} wrote:\n{}", stdout(&o));
    assert!(
        stderr(&o).contains(needle),
        "{args:?}: stderr does not mention {needle:?}:\n{}",
        stderr(&o)
    );
}

fn help(sub: &str) -> String {
    let args = [sub, "--help"];
    let o = unitdiff(&args);
    assert_code(&o, 0, &args);
    stdout(&o)
}

/// The section of `--help` starting at the line `title` (e.g. "Arguments:"), up to the next
/// unindented line.
fn section<'a>(help: &'a str, title: &str) -> Vec<&'a str> {
    let mut lines = help.lines().skip_while(|l| *l != title);
    if lines.next().is_none() {
        return Vec::new();
    }
    lines
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

/// The `[possible values: …]` of `--format` in `sub --help`.
fn formats(sub: &str) -> Vec<String> {
    let h = help(sub);
    let opts = section(&h, "Options:");
    let start = opts
        .iter()
        .position(|l| l.trim_start().starts_with("--format "))
        .unwrap_or_else(|| panic!("{sub} --help has no --format:\n{h}"));
    // The list may wrap over several lines.
    let text = opts[start..].join(" ");
    let inner = text
        .split("[possible values:")
        .nth(1)
        .and_then(|t| t.split(']').next())
        .unwrap_or_else(|| panic!("{sub} --format lists no values:\n{h}"));
    inner.split(',').map(|s| s.trim().to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// --help

/// In every subcommand's --help, each positional argument (`<NAME>`) has a description, and
/// `deps` shows its two forms instead of `<ROOT [NEW] UNIT> <ROOT [NEW] UNIT>...`.
#[test]
fn every_positional_argument_is_explained_in_help() {
    let mut seen = 0;
    for sub in SUBCOMMANDS {
        let h = help(sub);
        let args = section(&h, "Arguments:");
        let mut i = 0;
        while i < args.len() {
            let l = args[i].trim_start();
            if l.starts_with('<') || l.starts_with('[') {
                seen += 1;
                // The description is on the same line after the name, or indented below it.
                let rest = l.split_once(['>', ']']).map_or("", |(_, r)| r);
                let rest = rest.trim_start_matches("...").trim();
                let next = args.get(i + 1).map_or("", |n| n.trim());
                assert!(
                    !rest.is_empty() || !next.is_empty() && !next.starts_with('<'),
                    "{sub}: argument {l:?} has no description:\n{h}"
                );
            }
            i += 1;
        }
    }
    // diff, check: 2; explain 1; deps 2; why 3; snapshot 1; cat 2; graph 1; completions 1;
    // man 1.
    assert!(seen >= 16, "only {seen} positional arguments found");
    let deps = help("deps");
    assert!(!deps.contains("[NEW] UNIT>"), "{deps}");
    assert!(deps.contains("unitdiff deps [OPTIONS] ROOT UNIT"), "{deps}");
    assert!(
        deps.contains("unitdiff deps [OPTIONS] OLD NEW UNIT"),
        "{deps}"
    );
}

/// `deps` takes ROOT UNIT and OLD NEW UNIT, and refuses one or four words.
#[test]
fn deps_takes_one_or_two_roots() {
    let one = unitdiff(&["deps", NEW, "docker", "--format", "json"]);
    assert_code(&one, 0, &["deps", NEW, "docker"]);
    let v: Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(v["root"], NEW);
    let two = unitdiff(&["deps", OLD, NEW, "docker", "--format", "json"]);
    assert_code(&two, 0, &["deps", OLD, NEW, "docker"]);
    let v: Value = serde_json::from_slice(&two.stdout).unwrap();
    assert_eq!(
        (v["old"]["root"].as_str(), v["new"]["root"].as_str()),
        (Some(OLD), Some(NEW))
    );
    for args in [&["deps", NEW][..], &["deps", OLD, NEW, NEW, "docker"]] {
        let o = unitdiff(args);
        assert_code(&o, 2, args);
    }
}

// ---------------------------------------------------------------------------------------
// formats

/// Every format a command's --help offers is one it writes (exit 0 or 1 with output); the
/// formats are those each command can write.
#[test]
fn each_command_writes_every_format_it_offers() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "diff",
            &["diff", OLD, NEW],
            &["text", "json", "markdown", "dot", "svg", "png", "html"],
        ),
        (
            "graph",
            &["graph", NEW],
            &["text", "json", "markdown", "dot", "svg", "png"],
        ),
        (
            "deps",
            &["deps", OLD, NEW, "docker"],
            &["text", "json", "dot", "svg", "png"],
        ),
        (
            "why",
            &["why", NEW, "multi-user.target", "flanneld"],
            &["text", "json"],
        ),
        (
            "check",
            &["check", OLD, NEW],
            &[
                "text", "json", "sarif", "github", "junit", "gitlab", "markdown", "html",
            ],
        ),
    ];
    for (sub, base, expected) in cases {
        let offered = formats(sub);
        assert_eq!(offered, expected, "{sub} --format values");
        for f in offered {
            let file = dir.path().join(format!("{sub}.{f}"));
            let mut args: Vec<&str> = base.to_vec();
            args.extend(["--format", &f, "-o", file.to_str().unwrap()]);
            if matches!(f.as_str(), "svg" | "png") {
                args.extend(["--renderer", "builtin"]);
            }
            // The whole graph's picture takes long to rasterise in a debug build.
            if sub == "graph" && f != "text" && f != "json" {
                args.extend(["--focus", "flanneld"]);
            }
            let o = unitdiff(&args);
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{args:?}: {:?}\n{}",
                o.status,
                stderr(&o)
            );
            let written = std::fs::read(&file).unwrap_or_default();
            assert!(!written.is_empty(), "{args:?} wrote nothing");
        }
    }
    // `cat` writes the unit's files as text only, and offers no --format.
    assert!(!help("cat").contains("--format"), "{}", help("cat"));
    assert_refused(
        &["cat", NEW, "docker", "--format", "json"],
        "unexpected argument '--format'",
    );
    // `deps` pictures compare two roots; with one root they are refused, saying why.
    assert_refused(
        &["deps", NEW, "docker", "--format", "dot"],
        "two roots (OLD NEW UNIT)",
    );
}

// ---------------------------------------------------------------------------------------
// options that do not apply

/// Picture options with a format that is no picture, and format-specific options with
/// another format, are refused (exit 2, naming the option), never silently ignored.
#[test]
fn options_that_do_not_apply_are_refused() {
    for (args, needle) in [
        (&["graph", NEW, "--focus", "docker"][..], "--focus"),
        (
            &["graph", NEW, "--format", "json", "--focus", "docker"],
            "--focus",
        ),
        (&["graph", NEW, "--context", "2"], "--context"),
        (&["graph", NEW, "--kinds", "requires"], "--kinds"),
        (&["graph", NEW, "--implicit"], "--implicit"),
        (&["diff", OLD, NEW, "--focus", "docker"], "--focus"),
        (&["diff", OLD, NEW, "--max-chars", "100"], "--max-chars"),
        (
            &["diff", OLD, NEW, "--format", "dot", "--max-chars", "100"],
            "--max-chars",
        ),
        (
            &["diff", OLD, NEW, "--format", "dot", "--renderer", "builtin"],
            "--renderer",
        ),
        (
            &["deps", OLD, NEW, "docker", "--renderer", "builtin"],
            "--renderer",
        ),
        (
            &["diff", OLD, NEW, "--format", "json", "--patch"],
            "--patch",
        ),
        (&["diff", OLD, NEW, "--format", "json", "--stat"], "--stat"),
        (
            &["diff", OLD, NEW, "--format", "markdown", "--name-only"],
            "--name-only",
        ),
        (&["diff", OLD, NEW, "--stat", "--patch"], "--patch"),
        (&["diff", OLD, NEW, "--stat", "--name-only"], "--name-only"),
        (
            &["deps", OLD, NEW, "docker", "--format", "dot", "--why"],
            "--why",
        ),
        (&["diff", OLD, NEW, "--format", "json", "--all"], "--all"),
        (
            &["diff", OLD, NEW, "--format", "html", "--split", "x"],
            "--split",
        ),
        (
            &["diff", OLD, NEW, "--format", "dot", "--time-limit", "5"],
            "--time-limit",
        ),
        (&["graph", NEW, "--format", "html"], "invalid value 'html'"),
    ] {
        assert_refused(args, needle);
    }
}

/// Where they apply, the same options work: --focus narrows the picture to the unit's
/// neighbourhood (and --context widens it again).
#[test]
fn focus_narrows_the_pictures_it_applies_to() {
    let nodes = |args: &[&str]| -> BTreeSet<String> {
        let o = unitdiff(args);
        assert_code(&o, 0, args);
        // Node statements of our DOT: `"name"[…]` (edges are `"a" -> "b" […]`); the
        // legend's nodes are `legend:…`.
        stdout(&o)
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .filter_map(|l| l.split_once("\"["))
            .map(|(n, _)| n.to_string())
            .filter(|n| !n.starts_with("legend:"))
            .collect()
    };
    let all = nodes(&["graph", NEW, "--format", "dot"]);
    let focused = nodes(&["graph", NEW, "--format", "dot", "--focus", "flanneld"]);
    let wider = nodes(&[
        "graph",
        NEW,
        "--format",
        "dot",
        "--focus",
        "flanneld",
        "--context",
        "3",
    ]);
    assert!(focused.contains("flanneld.service"), "{focused:?}");
    assert!(focused.len() < all.len(), "{focused:?} vs {all:?}");
    assert!(focused.is_subset(&wider) && wider.len() > focused.len());
    assert!(wider.is_subset(&all));
}

/// `deps --all` expands every unit in every format; without it JSON lists the tree as
/// systemctl does (targets expanded), with one root or two.
#[test]
fn deps_all_applies_to_json_with_one_or_two_roots() {
    let json = |args: &[&str]| -> Value {
        let o = unitdiff(args);
        assert_code(&o, 0, args);
        serde_json::from_slice(&o.stdout).unwrap()
    };
    fn count(tree: &Value) -> usize {
        1 + tree["children"]
            .as_array()
            .map_or(0, |c| c.iter().map(count).sum())
    }
    let one = json(&["deps", NEW, "docker", "--format", "json"]);
    let one_all = json(&["deps", NEW, "docker", "--format", "json", "--all"]);
    let two = json(&["deps", OLD, NEW, "docker", "--format", "json"]);
    let two_all = json(&["deps", OLD, NEW, "docker", "--format", "json", "--all"]);
    assert_eq!(two["new"]["tree"], one["tree"]);
    assert_eq!(two_all["new"]["tree"], one_all["tree"]);
    assert!(count(&one_all["tree"]) > count(&one["tree"]));
    assert!(count(&two_all["old"]["tree"]) > count(&two["old"]["tree"]));
}

// ---------------------------------------------------------------------------------------
// --version

/// `--version` names the crate version, the commit this binary was built from (or says
/// it is unknown outside a git checkout) and the systemd versions whose rules are known.
#[test]
fn version_names_the_commit_and_the_systemd_rules() {
    let o = unitdiff(&["--version"]);
    assert_code(&o, 0, &["--version"]);
    let v = stdout(&o);
    assert!(
        v.starts_with(&format!("unitdiff {}\n", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let rules = format!("systemd rules: {}", unitdiff::unit::Rules::known_range());
    assert!(v.contains(&rules), "{v}");
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let top =
        git(&["rev-parse", "--show-toplevel"]).and_then(|t| Path::new(&t).canonicalize().ok());
    let line = v
        .lines()
        .find(|l| l.starts_with("commit: "))
        .unwrap_or_else(|| panic!("no commit line:\n{v}"));
    let built_by_packager = std::env::var_os("UNITDIFF_COMMIT").is_some();
    match top {
        Some(t) if !built_by_packager && t == Path::new(dir).canonicalize().unwrap() => {
            let head = git(&["rev-parse", "--short=12", "HEAD"]).unwrap();
            assert!(
                line.starts_with(&format!("commit: {head}")),
                "{line} vs {head}"
            );
        }
        _ if !built_by_packager => assert!(line.contains("unknown commit"), "{line}"),
        _ => {}
    }
    // -V: one line with the commit.
    let short = stdout(&unitdiff(&["-V"]));
    assert_eq!(short.lines().count(), 1, "{short}");
    let commit = line.trim_start_matches("commit: ");
    assert!(short.contains(commit), "{short} lacks {commit}");
}

// ---------------------------------------------------------------------------------------
// diff --stat and --name-only

/// Per unit, what the JSON report says changed: (dependencies added, removed, moved, files,
/// [Install] entries, "added"/"removed"/"").
fn changes_from_json() -> BTreeMap<String, (usize, usize, usize, usize, usize, String)> {
    let args = ["diff", OLD, NEW, "--format", "json"];
    let o = unitdiff(&args);
    assert_code(&o, 1, &args);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut m: BTreeMap<String, (usize, usize, usize, usize, usize, String)> = BTreeMap::new();
    let arr = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for e in arr("/edges/added") {
        m.entry(e["from"].as_str().unwrap().into()).or_default().0 += 1;
    }
    for e in arr("/edges/removed") {
        m.entry(e["from"].as_str().unwrap().into()).or_default().1 += 1;
    }
    for e in arr("/edges/moved") {
        m.entry(e["from"].as_str().unwrap().into()).or_default().2 += 1;
    }
    for u in arr("/units/changed") {
        let files = u["files"].as_array().map_or(0, Vec::len);
        m.entry(u["name"].as_str().unwrap().into()).or_default().3 += files;
    }
    for i in arr("/install/added")
        .into_iter()
        .chain(arr("/install/removed"))
    {
        m.entry(i["unit"].as_str().unwrap().into()).or_default().4 += 1;
    }
    for (key, what) in [("/units/added", "added"), ("/units/removed", "removed")] {
        for u in arr(key) {
            m.entry(u["name"].as_str().unwrap().into()).or_default().5 = what.into();
        }
    }
    m
}

/// `--name-only`: the units the JSON report shows changes for, one a line, sorted; the
/// exit status is diff's (1: dependency changes).
#[test]
fn name_only_lists_the_changed_units() {
    let args = ["diff", OLD, NEW, "--name-only"];
    let o = unitdiff(&args);
    assert_code(&o, 1, &args);
    let names: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    let expected: Vec<String> = changes_from_json().into_keys().collect();
    assert_eq!(names, expected);
    // The story: docker.service gained its flanneld dependencies.
    assert!(names.contains(&"docker.service".to_string()), "{names:?}");
    // Against itself: nothing, exit 0.
    let same = unitdiff(&["diff", NEW, NEW, "--name-only"]);
    assert_code(&same, 0, &["diff", NEW, NEW, "--name-only"]);
    assert!(same.stdout.is_empty(), "{}", stdout(&same));
}

/// `--stat`: one line per changed unit with the counts the JSON report has, then totals.
#[test]
fn stat_counts_what_changed_per_unit() {
    let args = ["diff", OLD, NEW, "--stat"];
    let o = unitdiff(&args);
    assert_code(&o, 1, &args);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let expected = changes_from_json();
    assert_eq!(lines.len(), expected.len() + 1, "{text}");
    let (mut added, mut removed) = (0, 0);
    for (line, (name, (a, r, m, f, i, presence))) in lines.iter().zip(&expected) {
        let (n, rest) = line.split_once(" | ").unwrap_or_else(|| panic!("{line:?}"));
        assert_eq!(n.trim(), name, "{text}");
        let mut want = format!("+{a} -{r} deps");
        if *m > 0 {
            want += &format!(", ~{m} moved");
        }
        if *f > 0 {
            want += &format!(", {f} file{}", if *f == 1 { "" } else { "s" });
        }
        if *i > 0 {
            want += &format!(", {i} [Install]");
        }
        if !presence.is_empty() {
            want += &format!(" ({presence})");
        }
        assert_eq!(rest, want, "{name}");
        added += a;
        removed += r;
    }
    let docker = lines
        .iter()
        .find(|l| l.trim_start().starts_with("docker.service "))
        .unwrap_or_else(|| panic!("no docker.service line:\n{text}"));
    assert!(
        docker.contains("+2 -0 deps"),
        "Requires= and After= flanneld: {docker}"
    );
    let total = lines.last().unwrap();
    assert!(
        total.contains(&format!("{} units changed", expected.len()))
            && total.contains(&format!("{added} dependencies added (+)"))
            && total.contains(&format!("{removed} removed (-)")),
        "{total}"
    );
}

// ---------------------------------------------------------------------------------------
// completions and the manual page

/// Every shell's script names every subcommand (and `graph --format`'s values).
#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let args = ["completions", shell];
        let o = unitdiff(&args);
        assert_code(&o, 0, &args);
        let script = stdout(&o);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
        assert!(script.contains("markdown"), "{shell}: no format values");
    }
    assert_refused(&["completions", "tcsh"], "invalid value 'tcsh'");
}

/// What bash offers after loading the script: `source <(unitdiff completions bash)`.
fn bash_complete(words: &str) -> BTreeSet<String> {
    let bash = support::tools::require("bash", "bash");
    let bin = assert_cmd::cargo::cargo_bin("unitdiff");
    let script = format!(
        "source <('{}' completions bash) || exit 3\n\
         complete -p unitdiff >/dev/null || exit 4\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _unitdiff unitdiff \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        bin.display()
    );
    let o = std::process::Command::new(bash)
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "bash: {:?}\n{}", o.status, stderr(&o));
    String::from_utf8(o.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "needs bash"]
fn bash_completes_subcommands_and_formats() {
    let subs = bash_complete("unitdiff ''");
    for sub in SUBCOMMANDS {
        assert!(subs.contains(*sub), "{sub} not offered: {subs:?}");
    }
    let graph = bash_complete("unitdiff graph root --format ''");
    let want: BTreeSet<String> = ["text", "json", "markdown", "dot", "svg", "png"]
        .map(String::from)
        .into();
    assert_eq!(graph, want);
    let deps = bash_complete("unitdiff deps root unit --format ''");
    assert!(
        !deps.contains("markdown") && deps.contains("dot"),
        "{deps:?}"
    );
    let opts = bash_complete("unitdiff diff --st");
    assert!(opts.contains("--stat"), "{opts:?}");
}

/// `unitdiff man` is a roff page naming every subcommand; `man diff` is unitdiff-diff(1);
/// `man --dir` writes every page.
#[test]
fn man_pages_are_generated() {
    let o = unitdiff(&["man"]);
    assert_code(&o, 0, &["man"]);
    let page = stdout(&o);
    assert!(page.contains(".TH unitdiff 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(&format!("unitdiff\\-{sub}(1)")), "no {sub}");
    }
    let diff = stdout(&unitdiff(&["man", "diff"]));
    assert!(diff.contains(".TH unitdiff-diff 1"), "{diff}");
    assert!(diff.contains(env!("CARGO_PKG_VERSION")), "{diff}");
    assert!(diff.contains("\\-\\-name\\-only"), "{diff}");
    assert_refused(&["man", "nosuch"], "no subcommand \"nosuch\"");
    let dir = tempfile::tempdir().unwrap();
    let o = unitdiff(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_code(&o, 0, &["man", "--dir"]);
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut want: Vec<String> = SUBCOMMANDS
        .iter()
        .map(|s| format!("unitdiff-{s}.1"))
        .chain(["unitdiff.1".to_string()])
        .collect();
    want.sort();
    assert_eq!(files, want);
}

/// Every page renders with groff without a warning, with its sections and options.
#[test]
#[ignore = "needs groff (groff-base)"]
fn man_pages_render_with_groff() {
    let groff = support::tools::require("groff", "groff-base");
    let dir = tempfile::tempdir().unwrap();
    let o = unitdiff(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_code(&o, 0, &["man", "--dir"]);
    let mut n = 0;
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let path = e.unwrap().path();
        let r = std::process::Command::new(&groff)
            // -k: preconv, as man(1) runs it, for the UTF-8 in the help texts.
            .args(["-k", "-man", "-Tutf8", "-ww", "-P", "-c"])
            .arg(&path)
            .env("GROFF_NO_SGR", "1")
            .output()
            .unwrap();
        assert!(r.status.success(), "{}: {}", path.display(), stderr(&r));
        assert!(r.stderr.is_empty(), "{}: {}", path.display(), stderr(&r));
        // Strip overstriking (bold/underline) before reading the text.
        let text: String = String::from_utf8_lossy(&r.stdout)
            .split('\u{8}')
            .enumerate()
            .map(|(i, s)| if i == 0 { s } else { s.get(1..).unwrap_or("") })
            .collect();
        for want in ["NAME", "SYNOPSIS", "OPTIONS"] {
            assert!(
                text.contains(want),
                "{}: no {want}:\n{text}",
                path.display()
            );
        }
        n += 1;
    }
    assert_eq!(n, SUBCOMMANDS.len() + 1);
}
