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
