//! Self-test of the systemd oracle (tests/support/oracle.rs) against the real systemd 252.
//! These tests FAIL (not skip) when systemd or setpriv is missing.

mod support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use support::oracle::{BASE_STUBS, STUB_PREFIX, run_systemd_test};

const SEARCH: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, body).unwrap();
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
#[ignore = "needs systemd 252 at /lib/systemd/systemd, and setpriv"]
fn oracle_reports_fragment_dropin_wants_requires_mask_and_not_found() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(
        root,
        "etc/systemd/system/a.service",
        "[Unit]\nWants=b.service\nAfter=b.service\n[Service]\nExecStart=/bin/true\n",
    );
    write(
        root,
        "usr/lib/systemd/system/b.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    write(
        root,
        "usr/lib/systemd/system/a.service.d/10-x.conf",
        "[Unit]\nRequires=c.service\n",
    );
    symlink("/dev/null", root.join("etc/systemd/system/m.service")).unwrap();

    let run = run_systemd_test(root, SEARCH, &names(&["a.service", "m.service"]))
        .unwrap_or_else(|e| panic!("{e}"));

    let a = run
        .unit("a.service")
        .unwrap_or_else(|| panic!("no a.service in dump:\n{}", run.raw));
    assert_eq!(a.load_state, "loaded");
    assert_eq!(a.fragment.as_deref(), Some("/etc/systemd/system/a.service"));
    assert_eq!(a.dropins, ["/usr/lib/systemd/system/a.service.d/10-x.conf"]);
    let wants = a.dep("Wants", "b.service").expect("a Wants b");
    assert_eq!(wants.origin, ["file"]);
    assert!(wants.destination.is_empty());
    assert_eq!(
        a.dep("Requires", "c.service").expect("a Requires c").origin,
        ["file"]
    );
    assert_eq!(
        a.dep("After", "b.service").expect("a After b").origin,
        ["file"]
    );
    // Default dependencies are reported with origin "default".
    assert_eq!(
        a.dep("Requires", "sysinit.target")
            .expect("default dep")
            .origin,
        ["default"]
    );
    // Only forward edges are kept.
    assert!(a.deps.iter().all(|d| !d.origin.is_empty()));
    assert!(!a.has_dep("WantedBy", "unitdiff-oracle.target"));

    let b = run.unit("b.service").expect("b.service");
    assert_eq!(b.load_state, "loaded");
    assert_eq!(
        b.fragment.as_deref(),
        Some("/usr/lib/systemd/system/b.service")
    );
    assert!(
        !b.has_dep("WantedBy", "a.service"),
        "inverse edges are not kept"
    );

    let c = run.unit("c.service").expect("c.service");
    assert_eq!(c.load_state, "not-found");
    assert_eq!(c.fragment, None);

    let m = run.unit("m.service").expect("m.service");
    assert_eq!(m.load_state, "masked");
    assert_eq!(m.fragment.as_deref(), Some("/etc/systemd/system/m.service"));

    // The anchor is invisible.
    assert!(run.unit("unitdiff-oracle.target").is_none());
    assert!(
        run.units
            .values()
            .all(|u| u.deps.iter().all(|d| d.target != "unitdiff-oracle.target"))
    );

    // The fixture had no base targets, so all were stubbed; stubs carry no edges.
    assert_eq!(
        run.stub_units,
        BASE_STUBS.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    let sysinit = run.unit("sysinit.target").expect("stubbed sysinit.target");
    assert_eq!(sysinit.load_state, "loaded");
    assert_eq!(
        sysinit.fragment.as_deref(),
        Some(&*format!("{STUB_PREFIX}/sysinit.target"))
    );
    for s in &run.stub_units {
        if let Some(u) = run.unit(s) {
            assert!(u.deps.is_empty(), "stub {s} has edges: {:?}", u.deps);
        }
    }
    assert_eq!(
        run.search_path,
        ["/etc/systemd/system", "/usr/lib/systemd/system"],
        "missing search dirs are skipped"
    );
}

#[test]
#[ignore = "needs systemd 252 at /lib/systemd/systemd, and setpriv"]
fn oracle_rewrites_absolute_links_and_merges_resolved_search_dirs() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    // merged /usr: /lib -> usr/lib, so /lib/systemd/system and /usr/lib/systemd/system are one.
    symlink("usr/lib", root.join("lib")).unwrap();
    write(
        root,
        "usr/lib/systemd/system/real.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    write(
        root,
        "usr/lib/systemd/system/sysinit.target",
        "[Unit]\nDescription=image sysinit\n",
    );
    // Absolute alias symlink (would point into the host if copied verbatim).
    fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
    symlink(
        "/lib/systemd/system/real.service",
        root.join("etc/systemd/system/al.service"),
    )
    .unwrap();
    // Linked unit file outside the search path, via an absolute link.
    write(
        root,
        "opt/app/linked.service",
        "[Unit]\nDescription=linked\n[Service]\nExecStart=/bin/true\n",
    );
    symlink(
        "/opt/app/linked.service",
        root.join("etc/systemd/system/linked.service"),
    )
    .unwrap();

    let run = run_systemd_test(root, SEARCH, &names(&["al.service", "linked.service"]))
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(
        run.search_path,
        ["/etc/systemd/system", "/usr/lib/systemd/system"]
    );
    let real = run
        .unit("real.service")
        .unwrap_or_else(|| panic!("no real.service:\n{}", run.raw));
    assert_eq!(real.load_state, "loaded");
    assert_eq!(real.aliases, ["al.service"]);
    assert_eq!(
        real.fragment.as_deref(),
        Some("/usr/lib/systemd/system/real.service")
    );

    let linked = run.unit("linked.service").expect("linked.service");
    assert_eq!(linked.load_state, "loaded");
    assert_eq!(
        linked.fragment.as_deref(),
        Some("/etc/systemd/system/linked.service")
    );

    // The image's own sysinit.target is used, not a stub.
    assert!(!run.stub_units.iter().any(|s| s == "sysinit.target"));
    assert_eq!(
        run.unit("sysinit.target").unwrap().fragment.as_deref(),
        Some("/usr/lib/systemd/system/sysinit.target")
    );
}
