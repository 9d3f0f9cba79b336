//! `unitdiff check`, the gate, as a user runs it on the CoreOS 899 → 1010 fixtures: the
//! findings, the policy file (allow, expiry, levels, errors), fingerprints that survive
//! moved lines and renamed drop-ins, the baseline, several reports in one run, and the
//! rule registry (`rules`, `explain`, docs/rules.md).

mod support;

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

const DROPIN: &str = "/etc/systemd/system/docker.service.d/40-flannel.conf";

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    crate_dir()
        .join("fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Run unitdiff in `cwd` with a fixed date; never asserts.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(cwd)
        .env("UNITDIFF_TODAY", "2026-11-30")
        .env_remove("PAGER")
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

fn check_in(cwd: &Path, old: &str, new: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", old, new];
    args.extend_from_slice(extra);
    run_in(cwd, &args)
}

fn coreos(cwd: &Path, extra: &[&str]) -> Output {
    check_in(cwd, &fixture("coreos-899"), &fixture("coreos-1010"), extra)
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn text(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8")
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8")
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings array")
}

/// The findings of a rule about an edge.
fn about<'a>(v: &'a Value, rule: &str, from: &str, to: &str) -> Vec<&'a Value> {
    findings(v)
        .iter()
        .filter(|f| f["rule"] == rule && f["units"][0] == from && f["target"] == to)
        .collect()
}

const ALLOW: &str = r#"schema = "unitdiff.policy.v1"

[[allow]]
rule = "new-hard-dependency"
unit = "docker.service"
kind = "Requires"
target = "flanneld.service"
reason = "flannel provides docker's network"
"#;

fn policy_dir(text: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("unitdiff.toml"), text).unwrap();
    d
}

#[test]
fn coreos_fails_the_gate_on_the_new_hard_dependency_first() {
    let d = tempfile::tempdir().unwrap();
    let o = coreos(d.path(), &["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v = json(&o);
    assert_eq!(v["schema"], "unitdiff.check.v1");
    assert_eq!(v["failed"], true);
    let first = &findings(&v)[0];
    assert_eq!(first["rule"], "new-hard-dependency");
    assert_eq!(first["level"], "error");
    assert_eq!(first["status"], "new");
    assert_eq!(first["edge"]["from"], "docker.service");
    assert_eq!(first["edge"]["kind"], "Requires");
    assert_eq!(first["edge"]["to"], "flanneld.service");
    assert_eq!(first["new"]["path"], DROPIN);
    assert_eq!(first["new"]["line"], 2);
    assert_eq!(first["new"]["layer"], "admin");
    assert_eq!(first["witness"][0]["to"], "flanneld.service");
    // The same change, judged as a local override.
    let admin = about(&v, "admin-override", "docker.service", "flanneld.service");
    assert!(
        admin
            .iter()
            .any(|f| f["kind"] == "Requires" && f["new"]["path"] == DROPIN),
        "{admin:?}"
    );
    assert_eq!(v["counts"]["error"]["new"], 1);

    // The text report leads with the summary and names the drop-in line and layer.
    let o = coreos(d.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    let head: Vec<&str> = t.lines().take(12).collect();
    assert!(
        head.iter().any(|l| l.starts_with("Findings: 1 error")),
        "{t}"
    );
    assert!(head.iter().any(|l| l.contains("Gate FAILED")), "{t}");
    let top = head
        .iter()
        .position(|l| l.starts_with("error  new-hard-dependency"))
        .expect("top finding");
    assert!(head[top + 1].contains(&format!("{DROPIN}:2 admin")), "{t}");
    // Every new finding ends with a ready-to-paste [[allow]] entry.
    assert!(t.contains("      [[allow]]\n      rule = \"new-hard-dependency\"\n      unit = \"docker.service\"\n      kind = \"Requires\"\n      target = \"flanneld.service\"\n"), "{t}");
    assert_eq!(
        t.matches("[[allow]]").count(),
        findings(&json(&coreos(d.path(), &["--format", "json"]))).len()
    );
}

#[test]
fn the_allow_snippet_pasted_with_a_reason_passes_the_gate() {
    let d = tempfile::tempdir().unwrap();
    let t = text(&coreos(d.path(), &[]));
    // Take the printed snippet of the first finding, add a reason, use it as the policy.
    let start = t.find("      [[allow]]").expect("snippet");
    let snippet: String = t[start..]
        .lines()
        .take_while(|l| l.starts_with("      "))
        .map(|l| format!("{}\n", &l[6..]))
        .collect::<String>()
        .replace("reason = \"\"", "reason = \"reviewed\"");
    let d = policy_dir(&format!("schema = \"unitdiff.policy.v1\"\n\n{snippet}"));
    let o = coreos(d.path(), &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

#[test]
fn a_policy_allows_it_and_it_stays_listed() {
    let d = policy_dir(ALLOW);
    let o = coreos(d.path(), &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert_eq!(v["failed"], false);
    assert_eq!(v["policy"], "unitdiff.toml");
    let f = &about(
        &v,
        "new-hard-dependency",
        "docker.service",
        "flanneld.service",
    )[0];
    assert_eq!(f["status"], "allowed");
    assert_eq!(f["line"], 3);
    assert_eq!(f["reason"], "flannel provides docker's network");
    assert_eq!(v["counts"]["error"]["allowed"], 1);
    assert_eq!(v["counts"]["error"]["new"], 0);
    // Text: counted and marked.
    let t = text(&coreos(d.path(), &[]));
    assert!(t.contains("(1 allowed by the policy"), "{t}");
    assert!(t.contains("[allowed: unitdiff.toml:3]"), "{t}");
    assert!(t.contains("Gate passed"), "{t}");
    // The admin-override warnings still fail a stricter gate.
    assert_eq!(
        coreos(d.path(), &["--fail-on", "warn"]).status.code(),
        Some(1)
    );
}

#[test]
fn an_expired_entry_stops_allowing_and_points_at_its_line() {
    let d = policy_dir(&format!("{ALLOW}expires = 2026-01-01\n"));
    let o = coreos(d.path(), &["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v = json(&o);
    let nhd = &about(
        &v,
        "new-hard-dependency",
        "docker.service",
        "flanneld.service",
    )[0];
    assert_eq!(nhd["status"], "new");
    let expired: Vec<&Value> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "policy-entry-expired")
        .collect();
    assert_eq!(expired.len(), 1, "{v}");
    assert_eq!(expired[0]["level"], "error");
    assert_eq!(expired[0]["new"]["path"], "unitdiff.toml");
    assert_eq!(expired[0]["new"]["line"], 3);
    // Not expired on its last day.
    let d = policy_dir(&format!("{ALLOW}expires = 2026-11-30\n"));
    assert_eq!(coreos(d.path(), &[]).status.code(), Some(0));
}

#[test]
fn policy_errors_exit_2_with_file_line_and_column() {
    let d = policy_dir(&ALLOW.replace("reason = \"flannel provides docker's network\"\n", ""));
    let o = coreos(d.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("unitdiff.toml:3:1:"), "{}", err(&o));
    assert!(err(&o).contains("reason"), "{}", err(&o));
    assert!(o.stdout.is_empty());

    let d = policy_dir("schema = \"unitdiff.policy.v1\"\n[rules]\nunit-added = info\n");
    let o = coreos(d.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("unitdiff.toml:3:14:"), "{}", err(&o));

    let d = policy_dir("schema = \"unitdiff.policy.v1\"\n[rules]\nno-such-rule = \"info\"\n");
    let o = coreos(d.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("unitdiff.toml:3:"), "{}", err(&o));

    // An explicit --policy that does not exist is an error, not a pass.
    let o = coreos(d.path(), &["--policy", "missing.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("missing.toml"), "{}", err(&o));
}

#[test]
fn unused_entries_levels_and_overrides() {
    let d = policy_dir(
        r#"schema = "unitdiff.policy.v1"

[rules]
new-hard-dependency = "warn"
setting-changed = "off"

[[override]]
unit = "flanneld.*"
rule = "enablement-changed"
level = "error"

[[allow]]
rule = "unit-removed"
unit = "nothing-*.service"
reason = "old entry"
"#,
    );
    let o = coreos(d.path(), &["--format", "json"]);
    let v = json(&o);
    // enablement-changed of flanneld.service is now an error: the gate fails on it.
    assert_eq!(o.status.code(), Some(1), "{v}");
    let en: Vec<&Value> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "enablement-changed")
        .collect();
    assert_eq!(en[0]["level"], "error");
    let nhd = &about(
        &v,
        "new-hard-dependency",
        "docker.service",
        "flanneld.service",
    )[0];
    assert_eq!(nhd["level"], "warn");
    assert!(findings(&v).iter().all(|f| f["rule"] != "setting-changed"));
    assert!(v["off"]["setting-changed"].as_u64().unwrap() > 0, "{v}");
    let unused: Vec<&Value> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "policy-entry-unused")
        .collect();
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0]["new"]["line"], 12);
    assert_eq!(unused[0]["level"], "warn");
}

#[test]
fn fail_on_levels() {
    let d = tempfile::tempdir().unwrap();
    assert_eq!(
        coreos(d.path(), &["--fail-on", "never"]).status.code(),
        Some(0)
    );
    assert_eq!(
        coreos(d.path(), &["--fail-on", "info"]).status.code(),
        Some(1)
    );
    let same = fixture("coreos-1010");
    let o = check_in(d.path(), &same, &same, &["--fail-on", "info"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(text(&o).contains("Findings: 0 error, 0 warn, 0 info"));
}

/// A copy of coreos-1010 to edit.
fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn nhd_of(cwd: &Path, new: &Path) -> (String, Value) {
    let o = check_in(
        cwd,
        &fixture("coreos-899"),
        new.to_str().unwrap(),
        &["--format", "json"],
    );
    let v = json(&o);
    let f = about(
        &v,
        "new-hard-dependency",
        "docker.service",
        "flanneld.service",
    )[0]
    .clone();
    (
        f["fingerprint"].as_str().unwrap().to_string(),
        f["new"].clone(),
    )
}

#[test]
fn fingerprints_survive_moved_lines_and_renamed_dropins() {
    let cwd = tempfile::tempdir().unwrap();
    let (fp, site) = nhd_of(cwd.path(), Path::new(&fixture("coreos-1010")));
    assert_eq!(fp.len(), 32);
    assert_eq!(site["line"], 2);

    // Move the Requires= line further down the drop-in.
    let t = tempfile::tempdir().unwrap();
    copy_tree(Path::new(&fixture("coreos-1010")), t.path());
    let dropin = t.path().join(DROPIN.trim_start_matches('/'));
    std::fs::write(
        &dropin,
        "[Unit]\n# moved\nAfter=flanneld.service\n\nRequires=flanneld.service\n",
    )
    .unwrap();
    let (moved, site) = nhd_of(cwd.path(), t.path());
    assert_eq!(site["line"], 5, "the line did move");
    assert_eq!(moved, fp);

    // Rename the drop-in.
    let renamed = dropin.with_file_name("10-network.conf");
    std::fs::rename(&dropin, &renamed).unwrap();
    let (again, site) = nhd_of(cwd.path(), t.path());
    assert_eq!(
        site["path"],
        "/etc/systemd/system/docker.service.d/10-network.conf"
    );
    assert_eq!(again, fp);

    // Another target is another finding.
    std::fs::write(&renamed, "[Unit]\nRequires=etcd2.service\n").unwrap();
    let o = check_in(
        cwd.path(),
        &fixture("coreos-899"),
        t.path().to_str().unwrap(),
        &["--format", "json"],
    );
    let v = json(&o);
    let other = &about(&v, "new-hard-dependency", "docker.service", "etcd2.service")[0];
    assert_ne!(other["fingerprint"].as_str().unwrap(), fp);
}

#[test]
fn baseline_accepts_current_findings_with_their_age() {
    let d = tempfile::tempdir().unwrap();
    let o = coreos(d.path(), &["--write-baseline", "base.toml"]);
    // Writing a baseline does not change this run's verdict.
    assert_eq!(o.status.code(), Some(1));
    let base = std::fs::read_to_string(d.path().join("base.toml")).unwrap();
    assert!(
        base.starts_with("schema = \"unitdiff.baseline.v1\"\n"),
        "{base}"
    );
    assert!(base.contains("first_seen = 2026-11-30"), "{base}");

    // Ten days later, with the baseline: pass, every finding listed as baselined.
    let later = |args: &[&str]| {
        let mut c = Command::cargo_bin("unitdiff").unwrap();
        c.current_dir(d.path())
            .env("UNITDIFF_TODAY", "2026-12-10")
            .args(["check", &fixture("coreos-899"), &fixture("coreos-1010")])
            .args(args);
        c.output().unwrap()
    };
    let o = later(&["--baseline", "base.toml", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert!(!findings(&v).is_empty());
    for f in findings(&v) {
        assert_eq!(f["status"], "baselined", "{f}");
        assert_eq!(f["age_days"], 10);
        assert_eq!(f["first_seen"], "2026-11-30");
    }
    let t = text(&later(&["--baseline", "base.toml"]));
    assert!(t.contains("[baselined 2026-11-30, 10 days ago]"), "{t}");

    // A baseline entry that matches nothing is reported as stale; rewriting keeps dates
    // and drops it.
    let stale = format!(
        "{base}\n[[finding]]\nfingerprint = \"00000000000000000000000000000000\"\nrule = \"unit-added\"\nunit = \"gone.service\"\nfirst_seen = 2026-01-01\n"
    );
    std::fs::write(d.path().join("stale.toml"), stale).unwrap();
    let o = later(&[
        "--baseline",
        "stale.toml",
        "--format",
        "json",
        "--write-baseline",
        "new.toml",
    ]);
    let v = json(&o);
    let st: Vec<&Value> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "baseline-entry-stale")
        .collect();
    assert_eq!(st.len(), 1, "{v}");
    assert!(st[0]["message"].as_str().unwrap().contains("gone.service"));
    let rewritten = std::fs::read_to_string(d.path().join("new.toml")).unwrap();
    assert_eq!(rewritten, base);
}

#[test]
fn several_reports_in_one_run_written_before_failing() {
    let d = tempfile::tempdir().unwrap();
    let o = coreos(
        d.path(),
        &[
            "--report",
            "json=out/check.json",
            "--report",
            "text=check.txt",
            "--color",
            "always",
        ],
    );
    // out/ does not exist: an error (exit 2), not a silent pass.
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("out/check.json"), "{}", err(&o));
    std::fs::create_dir(d.path().join("out")).unwrap();
    let o = coreos(
        d.path(),
        &[
            "--report",
            "json=out/check.json",
            "--report",
            "text=check.txt",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let j: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/check.json")).unwrap()).unwrap();
    assert_eq!(j["schema"], "unitdiff.check.v1");
    let t = std::fs::read_to_string(d.path().join("check.txt")).unwrap();
    assert!(t.contains("new-hard-dependency"));
    assert!(!t.contains('\x1b'), "no terminal styles in a file");
    assert_eq!(t, text(&o), "the file holds what stdout shows");

    let o = coreos(d.path(), &["--report", "yaml=x"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_json_carries_findings_additively() {
    let d = tempfile::tempdir().unwrap();
    let o = run_in(
        d.path(),
        &[
            "diff",
            &fixture("coreos-899"),
            &fixture("coreos-1010"),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["schema"], "unitdiff.diff.v1");
    assert!(v["edges"]["added"].is_array(), "existing keys stay");
    assert_eq!(findings(&v)[0]["rule"], "new-hard-dependency");
}

#[test]
fn rules_explain_and_generated_docs() {
    let d = tempfile::tempdir().unwrap();
    let o = run_in(d.path(), &["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let t = text(&o);
    for r in unitdiff::findings::RULES {
        assert!(t.contains(r.id.as_str()), "{}", r.id);
    }
    let o = run_in(d.path(), &["explain", "new-hard-dependency"]);
    assert_eq!(o.status.code(), Some(0));
    let t = text(&o);
    for part in [
        "default level: error",
        "Why it matters",
        "Example",
        "How to allow",
    ] {
        assert!(t.contains(part), "{part}: {t}");
    }
    let o = run_in(d.path(), &["explain", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));

    let o = run_in(d.path(), &["rules", "--format", "markdown"]);
    let doc = std::fs::read_to_string(crate_dir().join("docs/rules.md")).unwrap();
    assert!(
        text(&o) == doc,
        "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
}

#[test]
fn never_pages_when_stdout_is_not_a_terminal() {
    let d = tempfile::tempdir().unwrap();
    let marker = d.path().join("paged");
    let o = Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(d.path())
        .env("PAGER", format!("touch {}; cat", marker.display()))
        .args(["check", &fixture("coreos-899"), &fixture("coreos-1010")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("new-hard-dependency"));
    assert!(!marker.exists(), "the pager ran although stdout is a pipe");
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, p).unwrap();
}

/// A small upgrade made on a copy of fixtures/cycle/old: a first-boot service and a tmpfs on
/// /tmp now start at boot, a service runs every boot (negated condition), and an admin
/// masks c.service that a drop-in in /etc makes a.service require.
#[test]
fn boot_units_conditions_masks_and_overrides() {
    let old = fixture("cycle/old");
    let t = tempfile::tempdir().unwrap();
    let new = t.path();
    copy_tree(Path::new(&old), new);
    let sys = "usr/lib/systemd/system";
    write(
        new,
        &format!("{sys}/first-boot.service"),
        "[Unit]\nConditionFirstBoot=yes\n[Service]\nExecStart=/bin/true\n",
    );
    write(
        new,
        &format!("{sys}/every-boot.service"),
        "[Unit]\nConditionNeedsUpdate=!/etc\n[Service]\nExecStart=/bin/true\n",
    );
    write(
        new,
        &format!("{sys}/tmp.mount"),
        "[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\n",
    );
    for u in ["first-boot.service", "every-boot.service", "tmp.mount"] {
        link(
            new,
            &format!("{sys}/default.target.wants/{u}"),
            &format!("../{u}"),
        );
    }
    link(new, "etc/systemd/system/c.service", "/dev/null");
    write(
        new,
        "etc/systemd/system/a.service.d/10-c.conf",
        "[Unit]\nRequires=c.service\n",
    );
    let cwd = tempfile::tempdir().unwrap();
    let o = check_in(
        cwd.path(),
        &old,
        new.to_str().unwrap(),
        &["--format", "json", "--systemd-version", "252"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v = json(&o);
    let one = |rule: &str, unit: &str| -> Value {
        let all: Vec<&Value> = findings(&v)
            .iter()
            .filter(|f| f["rule"] == rule && f["units"][0] == unit)
            .collect();
        assert_eq!(all.len(), 1, "{rule} {unit}: {v}");
        all[0].clone()
    };
    let fb = one("boot-unit-added", "first-boot.service");
    assert!(
        fb["condition"]
            .as_str()
            .is_some_and(|c| c.contains("ConditionFirstBoot=yes")),
        "{fb}"
    );
    assert_eq!(fb["level"], "warn");
    assert!(one("boot-unit-added", "every-boot.service")["condition"].is_null());
    let tmp = one("boot-unit-added", "tmp.mount");
    assert!(
        tmp["message"].as_str().unwrap().contains("tmpfs on /tmp"),
        "{tmp}"
    );
    // default.target is an alias of multi-user.target in this tree.
    assert_eq!(tmp["witness"][0]["from"], "multi-user.target");

    let masked = one("hard-dependency-on-masked", "a.service");
    assert_eq!(masked["level"], "error");
    assert_eq!(masked["target"], "c.service");
    assert_eq!(
        masked["new"]["path"],
        "/etc/systemd/system/a.service.d/10-c.conf"
    );
    assert_eq!(one("unit-load-degraded", "c.service")["target"], "masked");
    let admin: Vec<&Value> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "admin-override" && f["units"][0] == "a.service")
        .collect();
    assert_eq!(admin.len(), 1, "{v}");
    assert_eq!(admin[0]["new"]["layer"], "admin");
    // Errors rank first.
    let levels: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["level"].as_str().unwrap())
        .collect();
    let mut sorted = levels.clone();
    sorted.sort_by_key(|l| ["error", "warn", "info"].iter().position(|x| x == l));
    assert_eq!(levels, sorted);
}

/// On a terminal (a pty from util-linux's `script`), text goes through $PAGER; --no-pager
/// and a pipe print directly.
#[test]
#[ignore = "needs script (util-linux)"]
fn pages_on_a_terminal_unless_no_pager() {
    let script = support::tools::require("script", "util-linux (bsdutils)");
    let bin = assert_cmd::cargo::cargo_bin("unitdiff");
    let d = tempfile::tempdir().unwrap();
    let paged = d.path().join("paged");
    let run = |extra: &str| {
        let cmd = format!(
            "{} check {} {} {extra}",
            bin.display(),
            fixture("coreos-899"),
            fixture("coreos-1010")
        );
        std::process::Command::new(&script)
            .args(["-qec", &cmd, "/dev/null"])
            .env("PAGER", format!("cat > {}", paged.display()))
            .env("UNITDIFF_TODAY", "2026-11-30")
            .output()
            .unwrap()
    };
    let o = run("");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let text = std::fs::read_to_string(&paged).expect("the pager got the report");
    assert!(text.contains("new-hard-dependency"), "{text}");
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("new-hard-dependency"),
        "printed besides the pager"
    );
    std::fs::remove_file(&paged).unwrap();
    let o = run("--no-pager");
    assert_eq!(o.status.code(), Some(1));
    assert!(!paged.exists(), "--no-pager still paged");
    assert!(String::from_utf8_lossy(&o.stdout).contains("new-hard-dependency"));
}
