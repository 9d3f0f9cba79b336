//! Roots that are not OS trees, and systemd versions whose rules are not known: exit 2 with
//! a hint, or a warning that says which rules were used; never a silent "every unit added".

use assert_cmd::Command;
use std::path::Path;

const NEW: &str = "fixtures/coreos-1010";

fn unitdiff(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const UNIT: &str = "[Unit]\nWants=b.service\n[Service]\nExecStart=/bin/true\n";

#[test]
fn the_directory_above_the_root_is_refused_with_the_real_root_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "rootfs/usr/lib/systemd/system/a.service", UNIT);
    std::fs::create_dir(dir.path().join("other")).unwrap();
    let above = dir.path().to_str().unwrap();
    for args in [
        vec!["graph", above],
        vec!["diff", above, NEW],
        vec!["diff", NEW, above],
        vec!["deps", above, "a"],
        vec!["cat", above, "a"],
    ] {
        let o = unitdiff(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains("no systemd unit directory"), "{e}");
        assert!(
            e.contains(&format!("did you mean {above}/rootfs?")),
            "{args:?}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    // The real root works.
    let o = unitdiff(&["deps", &format!("{above}/rootfs"), "a"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_empty_side_needs_allow_empty_and_the_assumed_version_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().to_str().unwrap();
    let o = unitdiff(&["diff", empty, NEW]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("did you mean"), "{}", stderr(&o));
    let o = unitdiff(&["diff", empty, NEW, "--allow-empty"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "{empty}: the systemd version was not found in the image"
        )) && e.contains("systemd 252's rules assumed"),
        "{e}"
    );
    // -q silences warnings, not errors.
    let o = unitdiff(&["-q", "diff", empty, NEW, "--allow-empty"]);
    assert!(o.stderr.is_empty());
}

#[test]
fn unknown_systemd_versions_are_refused_with_the_known_ones() {
    for v in ["999", "263", "224", "100"] {
        let o = unitdiff(&["graph", NEW, "--systemd-version", v]);
        assert_eq!(o.status.code(), Some(2), "{v}");
        let e = stderr(&o);
        assert!(
            e.contains("the rules of systemd 225 to 262 are known"),
            "{e}"
        );
    }
    for v in ["257.13", "258", "262.1"] {
        let o = unitdiff(&["graph", NEW, "--systemd-version", v]);
        assert_eq!(o.status.code(), Some(0), "{v}: {}", stderr(&o));
    }
}

#[test]
fn a_detected_version_newer_than_the_rules_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "usr/lib/systemd/system/a.service", UNIT);
    write(
        dir.path(),
        "usr/lib/systemd/systemd",
        "\0junk systemd 263.1-1 running in %ssystem mode\0",
    );
    let root = dir.path().to_str().unwrap();
    let o = unitdiff(&["graph", root]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("systemd 263.1 is newer than the newest rules known (262)")
            && e.contains("loaded with systemd 262's rules"),
        "{e}"
    );
    // The report says it too, not only stderr.
    let o = unitdiff(&["-q", "graph", root, "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        j["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("newer than the newest rules known (262)")),
        "{j}"
    );
}
