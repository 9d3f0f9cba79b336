//! Enablement against `systemctl --root=ROOT is-enabled UNIT` (systemd 252's own offline
//! view): for every unit with a unit file, on the fixtures and this machine's own tree.

mod support;

use std::path::Path;
use std::process::Command;
use unitdiff::unit::Rules;

fn systemctl_is_enabled(systemctl: &Path, root: &Path, unit: &str) -> String {
    let o = Command::new(systemctl)
        .arg(format!("--root={}", root.display()))
        .args(["is-enabled", unit])
        .output()
        .expect("systemctl runs (install systemd)");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn compare(root: &Path) {
    let systemctl = support::tools::require_systemctl();
    let g = unitdiff::load_dir(root, Rules::default()).unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, u) in g.set.units.iter().chain(g.set.templates.iter()) {
        if u.fragment.is_none() {
            continue;
        }
        let ours = g.set.enablement[name].state.as_str();
        let theirs = systemctl_is_enabled(&systemctl, root, name);
        checked += 1;
        if ours != theirs {
            problems.push(format!("{name}: ours {ours}, systemctl {theirs}"));
        }
    }
    assert!(checked > 0);
    assert!(
        problems.is_empty(),
        "{}: {} of {checked} differ:\n{}",
        root.display(),
        problems.len(),
        problems.join("\n")
    );
}

/// The PRESET column of `systemctl --root=ROOT list-unit-files` (what
/// `unit_file_query_preset()` says), by unit: `enabled`, `disabled`, `ignored` or `-`.
fn systemctl_presets(systemctl: &Path, root: &Path) -> std::collections::BTreeMap<String, String> {
    let o = Command::new(systemctl)
        .arg(format!("--root={}", root.display()))
        .args(["list-unit-files", "--no-legend", "--no-pager"])
        .output()
        .expect("systemctl runs (install systemd)");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_ascii_whitespace();
            let (name, _state, preset) = (w.next()?, w.next()?, w.next()?);
            Some((name.to_string(), preset.to_string()))
        })
        .collect()
}

/// Our preset decision for every unit with `[Install]` rules against systemctl's.
fn compare_presets(root: &Path) {
    let systemctl = support::tools::require_systemctl();
    let g = unitdiff::load_dir(root, Rules::default()).unwrap();
    let theirs = systemctl_presets(&systemctl, root);
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, e) in &g.set.enablement {
        let Some(p) = &e.preset else {
            continue;
        };
        let ours = match p.action.as_str() {
            "enable" => "enabled",
            "disable" => "disabled",
            _ => "ignored",
        };
        let theirs = theirs
            .get(name.as_str())
            .map_or("(not listed)", String::as_str);
        checked += 1;
        if ours != theirs {
            problems.push(format!(
                "{name}: ours {ours} ({:?}:{:?}), systemctl {theirs}",
                p.path, p.line
            ));
        }
    }
    assert!(checked > 0);
    assert!(
        problems.is_empty(),
        "{}: {} of {checked} presets differ:\n{}",
        root.display(),
        problems.len(),
        problems.join("\n")
    );
}

fn fixture(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
}

#[test]
#[ignore = "needs systemctl of systemd 252"]
fn enablement_rules_fixture() {
    compare(&fixture("rules/enablement"));
}

#[test]
#[ignore = "needs systemctl of systemd 252"]
fn coreos_fixtures() {
    compare(&fixture("coreos-899"));
    compare(&fixture("coreos-1010"));
}

#[test]
#[ignore = "needs systemctl of systemd 252"]
fn this_machines_own_tree() {
    let tmp = tempfile::tempdir().unwrap();
    support::host::copy_host_tree(tmp.path());
    compare(tmp.path());
}

/// Preset lines split and stripped at systemd's ASCII whitespace only (a no-break space
/// after the verb makes a line systemd ignores), `disable` taking the rest of its line.
#[test]
#[ignore = "needs systemctl of systemd 252"]
fn presets_whitespace_fixture() {
    compare_presets(&fixture("rules/whitespace"));
}

#[test]
#[ignore = "needs systemctl of systemd 252"]
fn presets_coreos_fixtures() {
    compare_presets(&fixture("coreos-899"));
    compare_presets(&fixture("coreos-1010"));
}

/// Preset patterns as `fnmatch(3)` reads them, and the first matching line across files.
#[test]
#[ignore = "needs systemctl of systemd 252"]
fn presets_patterns_fixture() {
    compare_presets(&fixture("rules/presets"));
}
