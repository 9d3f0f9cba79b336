//! Fuzzing every command and output format, seeded with a real image: proptest mutates a copy
//! of `fixtures/coreos-1010` (bytes inserted and deleted, hostile lines appended, drop-ins
//! with hostile names, files turned into symlinks out of the root or into loops, type-level
//! drop-ins, template floods) and runs `unitdiff` on it against `fixtures/coreos-899` in
//! every command and format. Each run must end on its own (a hang guard kills it), exit 0, 1
//! or 2, never panic, and write no control character other than newline and tab.
//!
//! Bounded: `UNITDIFF_FUZZ_CASES` mutated images (default 6; `.ci/run` runs 24). A failing
//! case is shrunk by proptest and its seed saved under `tests/fuzz.proptest-regressions`,
//! which is committed and replayed first on every later run (the regression fixture).

#[path = "support/bounded.rs"]
mod bounded;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A run that has not ended by then is a hang (not a timing assertion: a debug build on a
/// loaded machine finishes a fixture-sized run in well under a second).
const DEADLINE: Duration = Duration::from_secs(120);

fn cases() -> u32 {
    std::env::var("UNITDIFF_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Words a mutation may write: hostile bytes, specifiers, names.
const WORDS: &[&str] = &[
    "\x1b[2J",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b]8;;http://evil.example/\x1b\\x\x1b]8;;\x1b\\",
    "\u{9b}31m",
    "<img src=x onerror=alert(1)>",
    "`\n\n# Heading\n</details>",
    "%H%H%H%H",
    "%i%j%n%p",
    "\\\n",
    "\0",
    "\r",
    "flanneld.service",
    "docker.service",
    "a@%i%i.service",
    "-.mount",
    "foo-.service",
    "x.slice",
    "[Unit]\n",
    "[Install]\nWantedBy=multi-user.target\n",
];

const KEYS: &[&str] = &[
    "Wants",
    "Requires",
    "After",
    "Before",
    "BindsTo",
    "PartOf",
    "Conflicts",
    "Upholds",
    "RequiresMountsFor",
    "Slice",
    "Alias",
    "Also",
    "ListenStream",
    "Where",
    "PrivateTmp",
    "DefaultDependencies",
    ".include",
];

/// One change to the image.
#[derive(Debug, Clone)]
enum Mutation {
    /// Insert bytes into the `file`-th file (modulo the count) at `at` (modulo its length).
    Insert {
        file: usize,
        at: usize,
        bytes: Vec<u8>,
    },
    /// Delete up to `len` bytes at `at`.
    Delete { file: usize, at: usize, len: usize },
    /// Append `KEY=WORD WORD…` to a file.
    Line {
        file: usize,
        key: usize,
        words: Vec<usize>,
    },
    /// A drop-in named with hostile words under a unit's (or a type's, or a prefix's) `.d/`.
    DropIn {
        unit: usize,
        dir: usize,
        name: usize,
        key: usize,
        words: Vec<usize>,
    },
    /// Replace a file with a symlink.
    Symlink { file: usize, target: usize },
    /// A template whose instances name instances of themselves, and a unit that starts it.
    Flood { width: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let idx = || 0usize..64;
    let words = || proptest::collection::vec(0usize..WORDS.len(), 1..4);
    prop_oneof![
        (
            idx(),
            0usize..4096,
            proptest::collection::vec(any::<u8>(), 1..24)
        )
            .prop_map(|(file, at, bytes)| Mutation::Insert { file, at, bytes }),
        (idx(), 0usize..4096, 1usize..200).prop_map(|(file, at, len)| Mutation::Delete {
            file,
            at,
            len
        }),
        (idx(), 0usize..KEYS.len(), words()).prop_map(|(file, key, words)| Mutation::Line {
            file,
            key,
            words
        }),
        (
            idx(),
            0usize..4,
            0usize..WORDS.len(),
            0usize..KEYS.len(),
            words()
        )
            .prop_map(|(unit, dir, name, key, words)| Mutation::DropIn {
                unit,
                dir,
                name,
                key,
                words
            }),
        (idx(), 0usize..5).prop_map(|(file, target)| Mutation::Symlink { file, target }),
        (2usize..40).prop_map(|width| Mutation::Flood { width }),
    ]
}

/// Regular files and symlinks under `root`, sorted (so an index picks the same one).
fn files(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() || e.file_type().is_symlink())
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

fn unit_dir(root: &Path) -> PathBuf {
    root.join("usr/lib/systemd/system")
}

fn apply(root: &Path, m: &Mutation) {
    let all = files(root);
    let pick = |i: usize| all[i % all.len()].clone();
    let regular = |p: &Path| p.symlink_metadata().map(|m| m.is_file()).unwrap_or(false);
    match m {
        Mutation::Insert { file, at, bytes } => {
            let p = pick(*file);
            if regular(&p) {
                let mut b = std::fs::read(&p).unwrap();
                let at = at % (b.len() + 1);
                b.splice(at..at, bytes.iter().copied());
                std::fs::write(&p, b).unwrap();
            }
        }
        Mutation::Delete { file, at, len } => {
            let p = pick(*file);
            if regular(&p) {
                let mut b = std::fs::read(&p).unwrap();
                let at = at % (b.len() + 1);
                let end = (at + len).min(b.len());
                b.drain(at..end);
                std::fs::write(&p, b).unwrap();
            }
        }
        Mutation::Line { file, key, words } => {
            let p = pick(*file);
            if regular(&p) {
                let mut b = std::fs::read(&p).unwrap();
                let line: Vec<&str> = words.iter().map(|w| WORDS[*w]).collect();
                b.extend_from_slice(format!("\n{}={}\n", KEYS[*key], line.join(" ")).as_bytes());
                std::fs::write(&p, b).unwrap();
            }
        }
        Mutation::DropIn {
            unit,
            dir,
            name,
            key,
            words,
        } => {
            let units: Vec<PathBuf> = all
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e != "conf"))
                .cloned()
                .collect();
            let base = units
                .get(unit % units.len().max(1))
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "docker.service".into());
            let d = match dir {
                0 => format!("{base}.d"),
                1 => "service.d".into(),
                2 => "docker-.service.d".into(),
                _ => format!("{base}.wants"),
            };
            let d = root.join("etc/systemd/system").join(d);
            // An earlier mutation may have turned a parent into a symlink: then skip.
            if std::fs::create_dir_all(&d).is_err() {
                return;
            }
            let fname = format!("10-{}.conf", WORDS[*name].replace(['/', '\0'], "_"));
            let line: Vec<&str> = words.iter().map(|w| WORDS[*w]).collect();
            let body = format!("[Unit]\n{}={}\n", KEYS[*key], line.join(" "));
            let _ = std::fs::write(d.join(fname), body);
        }
        Mutation::Symlink { file, target } => {
            let p = pick(*file);
            let t = match target {
                0 => "../../../../../../etc/passwd".to_string(),
                1 => "/etc/shadow".to_string(),
                2 => p.file_name().unwrap().to_string_lossy().into_owned(),
                3 => "/dev/null".to_string(),
                _ => "/proc/self/root/etc/passwd".to_string(),
            };
            let _ = std::fs::remove_file(&p);
            std::os::unix::fs::symlink(t, &p).unwrap();
        }
        Mutation::Flood { width } => {
            let d = unit_dir(root);
            // An earlier mutation may have turned a parent into a symlink: then skip.
            if std::fs::create_dir_all(&d).is_err() {
                return;
            }
            let names: Vec<String> = (0..*width).map(|i| format!("f@{i}%i.service")).collect();
            let _ = std::fs::write(
                d.join("f@.service"),
                format!(
                    "[Unit]\nWants={}\n[Service]\nExecStart=/bin/true\n",
                    names.join(" ")
                ),
            );
            let _ = std::fs::write(
                d.join("flood.service"),
                "[Unit]\nWants=f@1.service\n[Service]\nExecStart=/bin/true\n",
            );
        }
    }
}

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run(args: &[&str]) -> Run {
    let child = Command::new(assert_cmd::cargo::cargo_bin("unitdiff"))
        .args(args)
        .env("TMPDIR", std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn unitdiff");
    let o = bounded::wait(child, DEADLINE, &format!("unitdiff {args:?}"));
    Run {
        code: o.code,
        stdout: o.stdout,
        stderr: o.stderr,
    }
}

/// The first control character other than newline and tab (C0, DEL, C1), if any.
fn control(b: &[u8]) -> Option<(usize, char)> {
    String::from_utf8_lossy(b).char_indices().find(|&(_, c)| {
        (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
    })
}

fn check(args: &[&str], r: &Run) -> Result<(), TestCaseError> {
    let err = String::from_utf8_lossy(&r.stderr);
    prop_assert!(
        matches!(r.code, Some(0..=2)),
        "unitdiff {:?} exited {:?}\n{}",
        args,
        r.code,
        err
    );
    prop_assert!(
        !err.contains("panicked"),
        "unitdiff {:?} panicked:\n{}",
        args,
        err
    );
    for (what, bytes) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        // PNG is binary; everything else is text for a reader.
        if args.contains(&"png") && what == "stdout" {
            continue;
        }
        if let Some((at, c)) = control(bytes) {
            let s = String::from_utf8_lossy(bytes);
            let from = s[..at].char_indices().rev().nth(60).map_or(0, |(i, _)| i);
            prop_assert!(
                false,
                "unitdiff {:?}: control character {:?} in {} at {}: …{:?}",
                args,
                c,
                what,
                at,
                &s[from..(at + 20).min(s.len())]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    /// Every command and format on a mutated real image ends, exits 0–2, never panics and
    /// writes no control character.
    #[test]
    fn every_command_and_format_on_a_mutated_image(
        mutations in proptest::collection::vec(mutation(), 1..6)
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("new");
        copy_tree(&fixture("coreos-1010"), &new);
        for m in &mutations {
            apply(&new, m);
        }
        let old = fixture("coreos-899");
        let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
        let split = tmp.path().join("split");
        let mut runs: Vec<Vec<&str>> = Vec::new();
        for f in ["text", "json", "markdown", "dot", "svg", "html"] {
            runs.push(vec!["--no-pager", "diff", o, n, "--format", f]);
        }
        runs.push(vec!["--no-pager", "diff", o, n, "-p"]);
        runs.push(vec!["--no-pager", "diff", o, n, "--stat"]);
        runs.push(vec!["--no-pager", "diff", o, n, "--format", "svg", "--split", split.to_str().unwrap()]);
        for f in ["text", "json", "markdown", "sarif", "junit", "github", "gitlab"] {
            runs.push(vec!["--no-pager", "check", o, n, "--format", f]);
        }
        for f in ["text", "json", "markdown", "dot"] {
            runs.push(vec!["--no-pager", "graph", n, "--format", f]);
        }
        runs.push(vec!["--no-pager", "graph", n, "--format", "png", "--focus", "docker.service"]);
        runs.push(vec!["--no-pager", "deps", n, "docker.service", "--all", "--why"]);
        runs.push(vec!["--no-pager", "deps", o, n, "docker.service", "--format", "json"]);
        runs.push(vec!["--no-pager", "why", n, "docker.service", "flanneld.service"]);
        runs.push(vec!["--no-pager", "cat", n, "docker.service"]);
        for args in &runs {
            let r = run(args);
            check(args, &r)?;
        }
        // Written files are read by people too: the split pictures' index.
        if let Ok(index) = std::fs::read(split.join("index.html")) {
            prop_assert!(control(&index).is_none(), "control character in the --split index");
            let s = String::from_utf8_lossy(&index);
            prop_assert!(!s.contains("<img src=x"), "markup from the image in the --split index");
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = e.path().strip_prefix(from).unwrap();
        let dst = to.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}
