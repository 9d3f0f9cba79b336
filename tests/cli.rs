//! The `unitdiff` command as a user runs it: exit codes, the text and JSON reports on the
//! CoreOS 899 → 1010 fixtures, error messages, determinism and a closed stdout.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

const DROPIN: &str = "/etc/systemd/system/docker.service.d/40-flannel.conf";
const FLANNELD: &str = "/usr/lib64/systemd/system/flanneld.service";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Run unitdiff with `args` from the crate root (so fixture paths are the relative ones a
/// user types) and return its output; never asserts.
fn unitdiff(args: &[&str]) -> Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(o)))
}

/// The 1-based line of `flanneld.service` (1010) that holds `WantedBy=multi-user.target`.
fn flanneld_wantedby_line() -> u64 {
    let text = std::fs::read_to_string(fixture(
        "coreos-1010/usr/lib64/systemd/system/flanneld.service",
    ))
    .unwrap();
    let i = text
        .lines()
        .position(|l| l.trim() == "WantedBy=multi-user.target")
        .expect("fixture has the WantedBy line");
    i as u64 + 1
}

/// The indented lines under the unit header `unit` inside the report section starting with
/// the line `section`, split into whitespace-separated fields.
fn block(text: &str, section: &str, unit: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == section)
        .unwrap_or_else(|| panic!("no section {section:?} in:\n{text}"));
    // The section ends at the next blank line.
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.is_empty())
        .map_or(lines.len(), |i| start + 1 + i);
    let sect = &lines[start + 1..end];
    let head = sect
        .iter()
        .position(|l| *l == unit)
        .unwrap_or_else(|| panic!("no unit header {unit:?} in section {section:?}:\n{text}"));
    sect[head + 1..]
        .iter()
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Whitespace-separated fields of one expected report line.
fn fields(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

fn find(arr: &Value, pred: impl Fn(&Value) -> bool) -> Option<&Value> {
    arr.as_array().expect("array").iter().find(|v| pred(v))
}

fn unit<'a>(graph: &'a Value, name: &str) -> Vec<&'a Value> {
    graph["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["name"] == name)
        .collect()
}

// ---------------------------------------------------------------------------------------
// diff, text

/// The incident: 1010 gains docker→flanneld Requires/After from the admin drop-in (lines 2
/// and 3), and flanneld gains a vendor [Install] WantedBy. Exit 1 = changes found.
#[test]
fn diff_text_attributes_docker_flanneld_to_admin_dropin() {
    let o = unitdiff(&["diff", "fixtures/coreos-899", "fixtures/coreos-1010"]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let text = stdout(&o);

    let docker = block(&text, "Dependency changes:", "docker.service");
    let requires = fields(&format!("+ Requires flanneld.service {DROPIN}:2 admin"));
    let after = fields(&format!("+ After flanneld.service {DROPIN}:3 admin"));
    assert!(
        docker.contains(&requires),
        "no Requires line under docker.service: {docker:?}\n{text}"
    );
    assert!(
        docker.contains(&after),
        "no After line under docker.service: {docker:?}\n{text}"
    );
    // Nothing else changed in docker.service's dependencies.
    assert_eq!(docker.len(), 2, "{docker:?}");

    let flanneld = block(
        &text,
        "[Install] changes (take effect when the unit is enabled):",
        "flanneld.service",
    );
    let want = fields(&format!(
        "+ [Install] WantedBy=multi-user.target {FLANNELD}:{} vendor \
         (when enabled: multi-user.target Wants flanneld.service)",
        flanneld_wantedby_line()
    ));
    assert_eq!(flanneld, vec![want], "{text}");
}

// ---------------------------------------------------------------------------------------
// diff, JSON

/// The same facts in `unitdiff.diff.v1`, with full provenance on each edge.
#[test]
fn diff_json_attributes_docker_flanneld_to_admin_dropin() {
    let o = unitdiff(&[
        "diff",
        "fixtures/coreos-899",
        "fixtures/coreos-1010",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let d = json(&o);
    assert_eq!(d["schema"], "unitdiff.diff.v1");

    for (kind, line) in [("Requires", 2), ("After", 3)] {
        let e = find(&d["edges"]["added"], |e| {
            e["from"] == "docker.service" && e["kind"] == kind && e["to"] == "flanneld.service"
        })
        .unwrap_or_else(|| panic!("no added {kind} edge: {:#}", d["edges"]));
        assert_eq!(e["origin"], "file", "{e:#}");
        assert_eq!(e["how"], "drop-in", "{e:#}");
        assert_eq!(e["source"]["path"], DROPIN, "{e:#}");
        assert_eq!(e["source"]["line"], line, "{e:#}");
        assert_eq!(e["layer"], "admin", "{e:#}");
    }
    assert_eq!(d["edges"]["removed"], serde_json::json!([]));

    let i = find(&d["install"]["added"], |i| {
        i["unit"] == "flanneld.service"
            && i["key"] == "WantedBy"
            && i["value"] == "multi-user.target"
    })
    .unwrap_or_else(|| panic!("no install change: {:#}", d["install"]));
    assert_eq!(i["layer"], "vendor");
    assert_eq!(i["source"]["path"], FLANNELD);
    assert_eq!(i["source"]["line"], flanneld_wantedby_line());

    assert!(
        find(&d["units"]["changed"], |u| u["name"] == "docker.service").is_some(),
        "{:#}",
        d["units"]
    );
}

/// §6 of the doc: the vendor trees alone add no edge; the only dependency-related change
/// is flanneld's [Install] WantedBy, and that alone makes the exit status 1.
#[test]
fn diff_vendor_only_reports_install_change_and_no_edges() {
    let o = unitdiff(&[
        "diff",
        "fixtures/coreos-899-vendor",
        "fixtures/coreos-1010-vendor",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let d = json(&o);
    assert_eq!(
        d["edges"]["added"],
        serde_json::json!([]),
        "{:#}",
        d["edges"]
    );
    assert_eq!(
        d["edges"]["removed"],
        serde_json::json!([]),
        "{:#}",
        d["edges"]
    );
    assert_eq!(d["install"]["removed"], serde_json::json!([]));
    let added = d["install"]["added"].as_array().unwrap();
    assert_eq!(added.len(), 1, "{:#}", d["install"]);
    assert_eq!(added[0]["unit"], "flanneld.service");
    assert_eq!(added[0]["key"], "WantedBy");
    assert_eq!(added[0]["value"], "multi-user.target");
    assert_eq!(added[0]["layer"], "vendor");
    // The rest are property changes of the units the doc lists, and nothing else: no unit
    // appears or disappears, no moved edge, no load-state change.
    assert_eq!(d["edges"]["moved"], serde_json::json!([]));
    assert_eq!(d["units"]["added"], serde_json::json!([]));
    assert_eq!(d["units"]["removed"], serde_json::json!([]));
    let changed: Vec<&str> = d["units"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        [
            "docker.service",
            "early-docker.service",
            "flanneld.service",
            "fleet.service",
            "fleet.socket"
        ]
    );
    for c in d["units"]["changed"].as_array().unwrap() {
        assert!(c.get("state").is_none(), "{c:#}");
        assert!(!c["settings"].as_array().unwrap().is_empty(), "{c:#}");
    }
    let fleet = &d["units"]["changed"].as_array().unwrap()[3];
    assert_eq!(fleet["settings"][0]["key"], "User");
    assert_eq!(fleet["settings"][0]["added"], serde_json::json!(["fleet"]));
}

/// Two trees with the same unit files whose only difference is the systemd they ship
/// (225 and 252): every change is reported as the systemd upgrade's, nothing as the files'.
#[test]
fn diff_of_a_systemd_upgrade_alone() {
    let args = [
        "diff",
        "fixtures/systemd-upgrade/old",
        "fixtures/systemd-upgrade/new",
    ];
    let o = unitdiff(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let d = json(&o);
    assert_eq!(d["old"]["systemd"], "225");
    assert_eq!(d["new"]["systemd"], "252.38");
    let added = d["edges"]["added"].as_array().unwrap();
    let removed = d["edges"]["removed"].as_array().unwrap();
    assert!(!added.is_empty() && !removed.is_empty());
    for e in added.iter().chain(removed) {
        assert_eq!(e["cause"], "systemd-upgrade", "{e:#}");
        assert_eq!(
            e["upgrade"],
            serde_json::json!({"old": "225", "new": "252.38"}),
            "{e:#}"
        );
        assert_ne!(e["how"], "fragment", "{e:#}");
    }
    // 228 moved services from Requires=basic.target to Requires=sysinit.target.
    let has = |arr: &[serde_json::Value], from: &str, kind: &str, to: &str| {
        arr.iter()
            .any(|e| e["from"] == from && e["kind"] == kind && e["to"] == to)
    };
    assert!(has(removed, "web.service", "Requires", "basic.target"));
    assert!(has(added, "web.service", "Requires", "sysinit.target"));
    // 249 added Wants=tmp.mount for PrivateTmp=, traced to the PrivateTmp= line.
    let tmp = added
        .iter()
        .find(|e| e["from"] == "app.service" && e["kind"] == "Wants" && e["to"] == "tmp.mount")
        .expect("PrivateTmp= edge");
    assert_eq!(tmp["rule"], "exec-private-tmp");
    assert_eq!(tmp["source"]["line"], 6);
    assert_eq!(d["units"]["changed"], serde_json::json!([]));
    assert_eq!(d["install"]["added"], serde_json::json!([]));
    assert_eq!(d["install"]["removed"], serde_json::json!([]));
    assert_eq!(d["units"]["added"], d["units"]["added_by_systemd_upgrade"]);
    assert_eq!(
        d["units"]["removed"],
        d["units"]["removed_by_systemd_upgrade"]
    );
    // Text: only the upgrade heading, no file-caused section.
    let text = stdout(&unitdiff(&args));
    assert!(
        text.contains("Dependency changes from the systemd upgrade (225 -> 252.38)"),
        "{text}"
    );
    assert!(!text.contains("\nDependency changes:\n"), "{text}");
    assert!(!text.contains("\nUnits:\n"), "{text}");
    // Forcing one version on both sides leaves nothing to report.
    let same = unitdiff(&[&args[..], &["--systemd-version", "252"]].concat());
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
}

/// Every tree we ship compared with itself: nothing changed, exit 0, "No changes" in text
/// and empty arrays in JSON.
#[test]
fn diff_against_itself_is_empty() {
    let mut trees = vec!["fixtures/coreos-1010".to_string()];
    let mut rules: Vec<String> = std::fs::read_dir(fixture("rules"))
        .unwrap()
        .map(|e| {
            format!(
                "fixtures/rules/{}",
                e.unwrap().file_name().to_str().unwrap()
            )
        })
        .collect();
    rules.sort();
    assert!(!rules.is_empty());
    trees.extend(rules);
    for t in &trees {
        let o = unitdiff(&["diff", t, t]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{t}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(stdout(&o).starts_with("No changes"), "{t}: {}", stdout(&o));

        let o = unitdiff(&["diff", t, t, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{t}: {}", stderr(&o));
        let d = json(&o);
        for part in ["units", "edges", "install"] {
            for side in ["added", "removed"] {
                assert_eq!(d[part][side], serde_json::json!([]), "{t}: {part}.{side}");
            }
        }
        assert_eq!(d["units"]["changed"], serde_json::json!([]), "{t}");
        assert_eq!(d["edges"]["moved"], serde_json::json!([]), "{t}");
    }
}

/// Two runs of the same diff print the same bytes.
#[test]
fn output_is_deterministic() {
    let args = [
        "diff",
        "fixtures/coreos-899",
        "fixtures/coreos-1010",
        "--format",
        "json",
    ];
    let a = unitdiff(&args);
    let b = unitdiff(&args);
    assert_eq!(a.status.code(), Some(1));
    assert!(a.stdout == b.stdout, "two runs differ");
    let args = ["graph", "fixtures/coreos-1010", "--format", "json"];
    assert!(
        unitdiff(&args).stdout == unitdiff(&args).stdout,
        "two graph runs differ"
    );
}

// ---------------------------------------------------------------------------------------
// errors

/// Asserts a fatal error: exit 2, empty stdout, and stderr one `unitdiff: error:` line
/// that names `path`.
fn assert_fatal(o: &Output, path: &str) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line: {err:?}");
    assert!(err.ends_with('\n'), "{err:?}");
    assert!(lines[0].starts_with("unitdiff: error: "), "{err:?}");
    assert!(
        lines[0].contains(path),
        "error does not name {path}: {err:?}"
    );
}

/// A root that does not exist is a fatal error naming it, in either position and command.
#[test]
fn missing_root_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-root");
    let m = missing.to_str().unwrap();
    assert_fatal(&unitdiff(&["diff", m, "fixtures/coreos-1010"]), m);
    assert_fatal(&unitdiff(&["diff", "fixtures/coreos-1010", m]), m);
    assert_fatal(&unitdiff(&["graph", m]), m);
    assert_fatal(&unitdiff(&["graph", m, "--format", "json"]), m);
}

/// A root that is a regular file is a fatal error too.
#[test]
fn file_root_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("root.tar");
    std::fs::write(&file, "not a directory").unwrap();
    let f = file.to_str().unwrap();
    assert_fatal(&unitdiff(&["diff", f, "fixtures/coreos-1010"]), f);
    assert_fatal(&unitdiff(&["graph", f]), f);
}

/// Usage errors exit 2 with a message on stderr and nothing on stdout.
#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["frobnicate"][..],
        &[
            "diff",
            "--no-such-flag",
            "fixtures/coreos-899",
            "fixtures/coreos-1010",
        ],
        &["diff", "fixtures/coreos-899"],
        &["graph", "fixtures/coreos-1010", "--format", "yaml"],
        &[],
    ] {
        let o = unitdiff(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
        assert!(!o.stderr.is_empty(), "{args:?}");
    }
}

/// Asking for help or the version is not an error: exit 0, text on stdout.
#[test]
fn help_and_version_exit_0() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["diff", "--help"],
        &["graph", "--help"],
    ] {
        let o = unitdiff(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!o.stdout.is_empty(), "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------
// graph

/// `unitdiff.graph.v1` for 1010: docker.service found once under /usr/lib64 (not again via
/// the /usr/lib -> lib64 link) with its admin drop-in; referenced-only units are
/// not-found; default.target is an alias of multi-user.target; edges are sorted.
#[test]
fn graph_json_for_coreos_1010() {
    let o = unitdiff(&["graph", "fixtures/coreos-1010", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let g = json(&o);
    assert_eq!(g["schema"], "unitdiff.graph.v1");

    let docker = unit(&g, "docker.service");
    assert_eq!(
        docker.len(),
        1,
        "docker.service listed {} times",
        docker.len()
    );
    let docker = docker[0];
    assert_eq!(docker["state"], "loaded");
    assert_eq!(
        docker["fragment"],
        "/usr/lib64/systemd/system/docker.service"
    );
    assert!(
        docker["dropins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == DROPIN),
        "{docker:#}"
    );
    // No unit or drop-in is reported twice through /usr/lib.
    let names: Vec<&str> = g["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    let mut dedup = names.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(names.len(), dedup.len(), "duplicate units: {names:?}");
    for u in g["units"].as_array().unwrap() {
        if let Some(f) = u["fragment"].as_str() {
            assert!(!f.starts_with("/usr/lib/"), "fragment via /usr/lib: {u:#}");
        }
    }

    for name in ["emergency.service", "rescue.target", "local-fs.target"] {
        let u = unit(&g, name);
        assert_eq!(u.len(), 1, "{name}");
        assert_eq!(u[0]["state"], "not-found", "{name}: {:#}", u[0]);
        assert_eq!(u[0]["fragment"], Value::Null, "{name}");
    }

    assert!(
        unit(&g, "default.target").is_empty(),
        "default.target is not its own unit"
    );
    let mu = unit(&g, "multi-user.target");
    assert_eq!(mu.len(), 1);
    assert!(
        mu[0]["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "default.target"),
        "{:#}",
        mu[0]
    );

    // Edges sorted by (from, kind, to), kinds in systemd's dependency order.
    const KINDS: [&str; 21] = [
        "Requires",
        "Requisite",
        "Wants",
        "BindsTo",
        "PartOf",
        "Upholds",
        "Conflicts",
        "Before",
        "After",
        "OnFailure",
        "OnSuccess",
        "PropagatesReloadTo",
        "ReloadPropagatedFrom",
        "PropagatesStopTo",
        "StopPropagatedFrom",
        "JoinsNamespaceOf",
        "RequiresOverridable",
        "RequisiteOverridable",
        "Triggers",
        "TriggeredBy",
        "InSlice",
    ];
    let keys: Vec<(String, usize, String)> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = e["kind"].as_str().unwrap();
            let rank = KINDS
                .iter()
                .position(|k| *k == kind)
                .unwrap_or_else(|| panic!("unknown kind {kind}"));
            (
                e["from"].as_str().unwrap().to_string(),
                rank,
                e["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(!keys.is_empty());
    for w in keys.windows(2) {
        assert!(
            w[0] < w[1],
            "edges not sorted (or duplicated): {:?} then {:?}",
            w[0],
            w[1]
        );
    }
    // The incident edge is there, from the drop-in.
    let e = find(&g["edges"], |e| {
        e["from"] == "docker.service" && e["kind"] == "Requires" && e["to"] == "flanneld.service"
    })
    .expect("docker Requires flanneld");
    assert_eq!(e["source"]["path"], DROPIN);
}

/// The text graph runs and lists docker.service as loaded.
#[test]
fn graph_text_runs() {
    let o = unitdiff(&["graph", "fixtures/coreos-1010"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.starts_with("docker.service  loaded")),
        "{text}"
    );
}

/// A reader that goes away after a few bytes (`unitdiff graph … | head -c 16`) is not an
/// error: no `unitdiff: error` message and exit status 0.
#[test]
fn reader_closing_early_is_not_an_error() {
    for format in ["text", "json"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("unitdiff"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["graph", "fixtures/coreos-1010", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 16];
        out.read_exact(&mut buf).unwrap();
        drop(out);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("unitdiff: error"), "{format}: {err}");
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert_eq!(status.code(), Some(0), "{format}: {status:?} {err}");
    }
}

/// The same without a race: the reader of stdout is gone before unitdiff writes anything
/// (the fixtures' reports fit in a pipe buffer, so the test above may never see EPIPE).
/// Every write fails with EPIPE; unitdiff must stay quiet and keep its exit status.
#[test]
fn stdout_without_reader_is_not_an_error() {
    use std::os::fd::{FromRawFd, OwnedFd};
    for args in [
        &["graph", "fixtures/coreos-1010"][..],
        &["graph", "fixtures/coreos-1010", "--format", "json"],
        &["diff", "fixtures/coreos-899", "fixtures/coreos-1010"],
        &[
            "diff",
            "fixtures/coreos-899",
            "fixtures/coreos-1010",
            "--format",
            "json",
        ],
    ] {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just created by pipe() and are owned here.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(read);
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("unitdiff"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .stdout(Stdio::from(write))
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(!err.contains("unitdiff: error"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        // The status the command would have had: 0 for graph, 1 for a diff that found
        // changes (so `set -o pipefail` scripts still see the changes); never 2 or a signal.
        let expected = if args[0] == "diff" { 1 } else { 0 };
        assert_eq!(
            o.status.code(),
            Some(expected),
            "{args:?}: {:?} {err}",
            o.status
        );
    }
}
