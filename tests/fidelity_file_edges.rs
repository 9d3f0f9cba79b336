//! Our graph against systemd 252 itself (`systemd --test`, see tests/support/oracle.rs), for
//! the edges written in files and links: every such edge of ours is one systemd shows with
//! `origin-file`, and every `origin-file` edge systemd shows that a directive or link wrote
//! is ours. Load states, fragments, drop-ins and aliases must agree too. Edges systemd adds
//! by itself are compared in the implicit-dependency suite.
//!
//! These tests fail (they do not skip) when systemd or setpriv is missing: `.ci/run`
//! installs them.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use support::oracle::{OracleOptions, OracleRun, run_systemd_test_with};
use unitdiff::unit::{How, Origin, Rules, paths::declared_search_path};

type Key = (String, String, String);

/// `origin-file` edges systemd adds although no directive or link of the image wrote them
/// (semantics doc §7.2, §8.2), with the reason. The implicit-dependency suite covers them.
fn systemd_made(kind: &str, target: &str) -> Option<&'static str> {
    match (kind, target) {
        ("After", "systemd-journald.socket") => Some("exec context: journal logging"),
        ("InSlice", _) => Some("slice membership is compared with the implicit edges"),
        ("After" | "Requires", "dbus.socket") => Some("bus name of a Type=dbus service"),
        ("Wants", "tmp.mount") | ("After", "systemd-tmpfiles-setup.service") => {
            Some("exec context: PrivateTmp=")
        }
        ("After", "systemd-remount-fs.service") => {
            Some("exec context: StateDirectory=/CacheDirectory=/LogsDirectory=")
        }
        ("After" | "Requires", t) if t.ends_with(".mount") => {
            Some("mount dependencies from paths (RequiresMountsFor=, socket and path units)")
        }
        _ => None,
    }
}

fn ours(root: &Path) -> (unitdiff::graph::DepGraph, BTreeSet<Key>) {
    let g = unitdiff::load_dir(root, Rules::default()).expect("fixture loads");
    let mut edges = BTreeSet::new();
    for ((from, kind, to), provs) in &g.edges {
        if provs
            .iter()
            .any(|p| p.origin == Origin::File && p.how != How::Rule)
            && systemd_made(kind.as_str(), to).is_none()
        {
            edges.insert((from.clone(), kind.as_str().to_string(), to.clone()));
        }
    }
    (g, edges)
}

fn oracle(root: &Path, g: &unitdiff::graph::DepGraph) -> OracleRun {
    let dirs = declared_search_path(&Rules::default());
    let want: Vec<String> = g.set.units.keys().cloned().collect();
    let opts = OracleOptions {
        add_stubs: false,
        ..OracleOptions::default()
    };
    run_systemd_test_with(root, &dirs, &want, &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Known difference: `%H` names the machine systemd runs on; offline we cannot know it, so
/// we drop such words with a warning (the templates fixture has one).
fn host_dependent(target: &str) -> bool {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    target == format!("{}.service", host.trim())
}

/// `After=`+`Requires=` on a unit's own slice: systemd adds them (origin-file) for every
/// unit in a slice (semantics doc §8.1).
fn slice_edges(run: &OracleRun) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for u in run.units.values() {
        for d in u.deps_of("InSlice") {
            for kind in ["After", "Requires"] {
                out.insert((u.name.clone(), kind.to_string(), d.target.clone()));
            }
        }
    }
    out
}

fn theirs(run: &OracleRun) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for u in run.units.values() {
        if u.is_host_synthesised() {
            continue;
        }
        for d in &u.deps {
            if host_dependent(&d.target) {
                continue;
            }
            if d.origin.iter().any(|o| o == "file") && systemd_made(&d.kind, &d.target).is_none() {
                out.insert((u.name.clone(), d.kind.clone(), d.target.clone()));
            }
        }
    }
    out
}

fn compare(fixture: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture); // absolute paths stay as they are
    let (g, ours) = ours(&root);
    let run = oracle(&root, &g);
    let slices = slice_edges(&run);
    let theirs: BTreeSet<Key> = theirs(&run).difference(&slices).cloned().collect();
    let ours: BTreeSet<Key> = ours.difference(&slices).cloned().collect();
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    let mut problems = Vec::new();
    for k in &missing {
        problems.push(format!("systemd has, we lack: {} {} {}", k.0, k.1, k.2));
    }
    for k in &extra {
        problems.push(format!("we have, systemd lacks: {} {} {}", k.0, k.1, k.2));
    }
    for (name, u) in &g.set.units {
        let Some(o) = run.unit(name) else {
            problems.push(format!("{name}: systemd did not load it"));
            continue;
        };
        if u.state.as_str() != o.load_state {
            problems.push(format!(
                "{name}: state {} vs systemd {}",
                u.state.as_str(),
                o.load_state
            ));
        }
        let frag = u.fragment.as_ref().map(|f| f.path.to_string());
        if frag != o.fragment {
            problems.push(format!(
                "{name}: fragment {frag:?} vs systemd {:?}",
                o.fragment
            ));
        }
        let dropins: BTreeSet<String> = u.dropins.iter().map(|d| d.path.to_string()).collect();
        let odropins: BTreeSet<String> = o.dropins.iter().cloned().collect();
        if dropins != odropins {
            problems.push(format!(
                "{name}: drop-ins {dropins:?} vs systemd {odropins:?}"
            ));
        }
        let aliases: Vec<&String> = u.aliases.iter().collect();
        let oaliases: Vec<&String> = o.aliases.iter().collect();
        if aliases != oaliases {
            problems.push(format!(
                "{name}: aliases {aliases:?} vs systemd {oaliases:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{fixture}: {} difference(s) with systemd:\n{}\n(systemd compared {} units, {} file edges)",
        problems.len(),
        problems.join("\n"),
        run.units.len(),
        theirs.len()
    );
    assert!(
        !theirs.is_empty(),
        "{fixture}: systemd showed no file edges at all"
    );
}

#[test]
fn coreos_1010() {
    compare("fixtures/coreos-1010");
}

#[test]
fn coreos_899() {
    compare("fixtures/coreos-899");
}

#[test]
fn rule_precedence() {
    compare("fixtures/rules/precedence");
}

#[test]
fn rule_mask() {
    compare("fixtures/rules/mask");
}

#[test]
fn rule_alias() {
    compare("fixtures/rules/alias");
}

#[test]
fn rule_wants_dirs() {
    compare("fixtures/rules/wants");
}

#[test]
fn rule_dropins() {
    compare("fixtures/rules/dropins");
}

#[test]
fn rule_templates() {
    compare("fixtures/rules/templates");
}

#[test]
fn rule_symlinked_search_dirs() {
    compare("fixtures/rules/symlinked");
}

#[test]
fn rule_triggers() {
    compare("fixtures/rules/triggers");
}

/// Copy this machine's own unit directories into a root laid out like the host's (`/lib`
/// stays a symlink if it is one), so a real distribution tree is compared too.
fn copy_host_tree(dst: &Path) {
    use std::os::unix::fs::symlink;
    for top in ["lib", "usr/lib"] {
        let src = Path::new("/").join(top);
        if let Ok(t) = std::fs::read_link(&src) {
            std::fs::create_dir_all(dst.join(top).parent().unwrap()).unwrap();
            symlink(t, dst.join(top)).unwrap();
        }
    }
    for dir in ["usr/lib/systemd/system", "etc/systemd/system"] {
        let src = Path::new("/").join(dir);
        for entry in walkdir::WalkDir::new(&src).follow_links(false) {
            let Ok(entry) = entry else { continue };
            let rel = entry.path().strip_prefix("/").unwrap();
            let to = dst.join(rel);
            let ft = entry.file_type();
            if ft.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
            } else if ft.is_symlink() {
                let t = std::fs::read_link(entry.path()).unwrap();
                symlink(t, &to).unwrap();
            } else if ft.is_file() {
                std::fs::copy(entry.path(), &to).unwrap();
            }
        }
    }
}

#[test]
fn this_machines_own_tree() {
    let tmp = tempfile::tempdir().unwrap();
    copy_host_tree(tmp.path());
    let (g, _) = ours(tmp.path());
    assert!(
        g.set.units.len() > 100,
        "expected a real distribution tree, got {} units",
        g.set.units.len()
    );
    compare(tmp.path().to_str().unwrap());
}
