//! Pictures of whole diffs: the overview a large diff gets by default, `--all`, the size
//! cap, `--split DIR`, and the system's Graphviz `dot` as a bounded child process.

mod support;

use assert_cmd::Command;
use std::path::Path;

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

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A tree of `n` services, each wanting and ordered after an earlier one; the new side
/// makes every 10th service require another one, drops every 25th and enables
/// `extra` more services at boot.
fn synthetic(root: &Path, n: usize, new: bool) {
    let dir = root.join("usr/lib/systemd/system");
    write(&dir.join("multi-user.target"), "[Unit]\nDescription=mu\n");
    write(
        &root.join("etc/systemd/system/default.target"),
        "[Unit]\nRequires=multi-user.target\nAfter=multi-user.target\n",
    );
    for i in 0..n {
        if new && i % 25 == 7 {
            continue;
        }
        let mut text = format!("[Unit]\nDescription=synthetic {i}\n");
        if i > 0 {
            let p = (i * 7919) % i;
            text.push_str(&format!("Wants=s{p}.service\nAfter=s{p}.service\n"));
        }
        if new && i % 10 == 3 {
            text.push_str(&format!("Requires=s{}.service\n", (i * 31) % i));
        }
        text.push_str("[Service]\nExecStart=/bin/true\n");
        write(&dir.join(format!("s{i}.service")), &text);
        if i % 5 == 0 || (new && i % 5 == 1) {
            let link = dir.join(format!("multi-user.target.wants/s{i}.service"));
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(format!("../s{i}.service"), link).unwrap();
        }
    }
}

fn pair(n: usize) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    synthetic(&t.path().join("old"), n, false);
    synthetic(&t.path().join("new"), n, true);
    t
}

fn nodes_in(svg: &str) -> usize {
    svg.matches("class=\"node\"").count()
}

/// A large diff draws an overview by default, says so on stderr, and `--all` draws it all.
#[test]
fn large_diff_draws_an_overview_and_all_draws_everything() {
    let t = pair(300);
    let (old, new) = (t.path().join("old"), t.path().join("new"));
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let o = unitdiff(&["diff", old, new, "--format", "svg"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("overview") && err.contains("--all") && err.contains("--focus"),
        "{err}"
    );
    let overview = String::from_utf8(o.stdout).unwrap();
    let o = unitdiff(&["diff", old, new, "--format", "svg", "--all"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("overview"));
    let all = String::from_utf8(o.stdout).unwrap();
    let (a, b) = (nodes_in(&overview), nodes_in(&all));
    assert!(b > 200, "--all drew {b} nodes");
    assert!(a < b / 2, "the overview has {a} nodes, --all {b}");
    // Summaries and boxes: unchanged neighbours collapsed, units in their target's box.
    assert!(overview.contains(" units</text>"), "no summary node");
    assert!(overview.contains("class=\"cluster\""), "no cluster");
    // The DOT format is never cut down.
    let o = unitdiff(&["diff", old, new, "--format", "dot"]);
    let dot = String::from_utf8(o.stdout).unwrap();
    assert!(dot.matches("label=\"s").count() > 200);
}

/// A small diff is drawn whole, with no note.
#[test]
fn small_diff_is_drawn_whole() {
    let o = unitdiff(&["diff", OLD, NEW, "--format", "svg"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let svg = String::from_utf8(o.stdout).unwrap();
    assert!(svg.contains("flanneld.service") && svg.contains("+ Requires"));
}

/// Past the size cap a picture is refused at once with what to do instead.
#[test]
fn too_large_to_draw_is_a_clear_error() {
    let t = pair(2_000);
    let (old, new) = (t.path().join("old"), t.path().join("new"));
    let o = unitdiff(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "svg",
        "--all",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("too large to draw") && err.contains("--focus"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

/// `--split DIR`: one focused picture per finding of the findings model (named by rank,
/// rule ID and unit), and an index linking them in rank order.
#[test]
fn split_writes_one_picture_per_finding() {
    let out = tempfile::tempdir().unwrap();
    let o = unitdiff(&[
        "diff",
        OLD,
        NEW,
        "--format",
        "svg",
        "--split",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let index = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    let mut svgs: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    svgs.sort();
    assert!(!svgs.is_empty());
    for s in &svgs {
        assert!(
            index.contains(&format!("src=\"{s}\"")),
            "{s} not in the index"
        );
    }
    // Ranked: the error (docker.service's new Requires=) first.
    assert_eq!(
        svgs[0], "01-new-hard-dependency-docker.service.svg",
        "{svgs:?}"
    );
    assert!(
        index.contains("error new-hard-dependency: docker.service now Requires flanneld.service")
    );
    let docker = &svgs[0];
    let svg = std::fs::read_to_string(out.path().join(docker)).unwrap();
    assert!(svg.contains("flanneld.service") && svg.contains("+ Requires"));
}

/// The pid of a `dot` child of `pid`, if there is one now.
fn dot_child(pid: u32) -> Option<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    for t in tasks.flatten() {
        let children = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        for c in children.split_whitespace() {
            let comm = std::fs::read_to_string(format!("/proc/{c}/comm")).unwrap_or_default();
            if comm.trim() == "dot" {
                return c.parse().ok();
            }
        }
    }
    None
}

fn alive(pid: u32) -> bool {
    // A zombie is dead; a reaped process has no /proc entry.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// The system's `dot` gets its input on a pipe (no temporary file), is stopped at the time
/// limit, and dies with unitdiff when unitdiff is killed.
#[test]
#[ignore = "needs Graphviz dot"]
fn system_dot_is_bounded_and_dies_with_us() {
    support::tools::require("dot", "graphviz");
    // Large enough that `dot` works for many seconds even on a fast idle machine (with 400
    // units it finished within the 1 s limit on one), small enough that unitdiff gets to it
    // quickly on a loaded machine.
    let t = pair(1200);
    let (old, new) = (t.path().join("old"), t.path().join("new"));
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "svg",
        "--all",
        "--renderer",
        "graphviz",
    ];
    // Time limit: stopped with a clear error, and no `dot` left behind.
    let o = Command::cargo_bin("unitdiff")
        .unwrap()
        .env("TMPDIR", tmp.path())
        .args(args)
        .args(["--time-limit", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("longer than 1s") && err.contains("--focus"),
        "{err}"
    );

    // Killed while drawing: the kernel kills `dot` too.
    let bin = assert_cmd::cargo::cargo_bin("unitdiff");
    let mut child = std::process::Command::new(bin)
        .env("TMPDIR", tmp.path())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut dot = None;
    // A bound on waiting, not a timing assertion: a loaded debug build may take a while.
    for _ in 0..6_000 {
        dot = dot_child(child.id());
        if dot.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let dot = dot.expect("unitdiff started dot");
    // Its input is a pipe, not a file.
    let stdin = std::fs::read_link(format!("/proc/{dot}/fd/0")).unwrap();
    assert!(stdin.to_string_lossy().starts_with("pipe:"), "{stdin:?}");
    assert!(alive(dot));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut gone = false;
    for _ in 0..200 {
        if !alive(dot) {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(gone, "dot ({dot}) outlived unitdiff");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// The same picture from the system's `dot` as from the builtin renderer: same units, same
/// edge labels (both are Graphviz's `dot` layout).
#[test]
#[ignore = "needs Graphviz dot"]
fn system_dot_and_builtin_draw_the_same_graph() {
    support::tools::require("dot", "graphviz");
    let draw = |r: &str| {
        let o = unitdiff(&["diff", OLD, NEW, "--format", "svg", "--renderer", r]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let titles = |svg: &str| {
        let mut v: Vec<String> = svg
            .split("<title>")
            .skip(1)
            .map(|s| s.split("</title>").next().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let (a, b) = (draw("builtin"), draw("graphviz"));
    assert_eq!(titles(&a), titles(&b));
    assert!(titles(&a).len() > 20);
}
