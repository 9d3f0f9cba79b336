//! `--user`: a user manager's units (fixtures/user-scope, and the user units of the Debian
//! 12 and 13 fixtures): its search path, its default.target, the rules that differ from the
//! system manager's (docs/semantics.md, "User scope"), the commands and the JSON's `scope`;
//! and, with systemd 252 on this machine, agreement with `systemd --user --test` itself.

mod support;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use support::oracle::{OracleOptions, run_systemd_test_with};
use unitdiff::graph::DepGraph;
use unitdiff::unit::{Rules, Scope, paths};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn load(name: &str, rules: Rules, scope: Scope) -> DepGraph {
    let opts = unitdiff::InputOptions {
        scope,
        no_generators: true,
        ..Default::default()
    };
    unitdiff::open_input_with(&fixture(name), Some(rules), &[], &opts).expect("fixture loads")
}

fn has(g: &DepGraph, from: &str, kind: &str, to: &str) -> bool {
    g.edges
        .keys()
        .any(|(f, k, t)| f == from && k.as_str() == kind && t == to)
}

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

#[test]
fn search_path_is_the_user_managers() {
    let g = load("user-scope", Rules::new(252, 0), Scope::User);
    let dirs: Vec<&str> = g
        .set
        .search_dirs
        .iter()
        .map(|d| d.declared.as_str())
        .collect();
    assert_eq!(
        dirs,
        [
            "/etc/xdg/systemd/user",
            "/etc/systemd/user",
            "/usr/share/systemd/user",
            "/usr/lib/systemd/user"
        ]
    );
    assert_eq!(g.set.scope, Scope::User);
    // Units of every user directory load; the system unit does not, even when named.
    for u in [
        "xdg.service",
        "shared.service",
        "agent.service",
        "default.target",
    ] {
        assert_eq!(g.set.units[u].state.as_str(), "loaded", "{u}");
    }
    assert_eq!(
        g.set.units["system-only.service"].state.as_str(),
        "not-found"
    );
    assert!(!g.set.units.contains_key("multi-user.target"));
    // /etc/xdg/systemd/user is searched from 246 only.
    let old = load("user-scope", Rules::new(245, 0), Scope::User);
    assert!(
        old.set
            .search_dirs
            .iter()
            .all(|d| d.declared.as_str() != "/etc/xdg/systemd/user")
    );
    assert!(!old.set.units.contains_key("xdg.service"));
    // The system manager's view of the same image has none of the user units.
    let sys = load("user-scope", Rules::new(252, 0), Scope::System);
    assert_eq!(sys.set.scope, Scope::System);
    assert!(!sys.set.units.contains_key("agent.service"));
    assert!(sys.set.units.contains_key("system-only.service"));
    assert!(sys.set.units.contains_key("system.slice"));
}

#[test]
fn default_dependencies_of_a_user_manager() {
    let g = load("user-scope", Rules::new(252, 0), Scope::User);
    // Services require basic.target; nothing is ordered after sysinit.target.
    assert!(has(&g, "agent.service", "Requires", "basic.target"));
    assert!(has(&g, "agent.service", "After", "basic.target"));
    assert!(has(&g, "agent.service", "Conflicts", "shutdown.target"));
    assert!(has(&g, "agent.socket", "Before", "sockets.target"));
    assert!(has(&g, "sync.timer", "Before", "timers.target"));
    assert!(has(&g, "watch.path", "Before", "paths.target"));
    for (from, _, to) in g.edges.keys() {
        assert_ne!(to, "sysinit.target", "{from} -> sysinit.target");
    }
    // Calendar timers are not ordered after the clock; the timer stamp needs no mount.
    assert!(!has(&g, "sync.timer", "After", "time-sync.target"));
    assert!(!has(&g, "sync.timer", "After", "time-set.target"));
    // The exec rules that are the system manager's only: journal, /tmp, remount-fs.
    for to in [
        "systemd-journald.socket",
        "tmp.mount",
        "systemd-tmpfiles-setup.service",
        "systemd-remount-fs.service",
    ] {
        assert!(
            !has(&g, "agent.service", "After", to),
            "agent.service After {to}"
        );
    }
    // Paths still need their mounts (here: the root file system).
    assert!(has(&g, "agent.service", "After", "-.mount"));
    assert!(has(&g, "agent.socket", "After", "-.mount"));
    // app.slice, app-PREFIX.slice for instances; no system.slice at all.
    assert!(has(&g, "agent.service", "InSlice", "app.slice"));
    assert!(has(&g, "worker@one.service", "InSlice", "app-worker.slice"));
    assert!(has(&g, "app-worker.slice", "InSlice", "app.slice"));
    assert!(has(&g, "bus.service", "InSlice", "session.slice"));
    assert!(!g.set.units.contains_key("system.slice"));
    // D-Bus activation works the same.
    assert!(has(&g, "bus.service", "Requires", "dbus.socket"));
    // The default target pulls in what /etc/systemd/user links.
    assert!(has(&g, "default.target", "Wants", "worker@one.service"));
    assert!(has(&g, "sockets.target", "Wants", "agent.socket"));
    // Before 247, a user manager's units went into the root slice, instances into
    // PREFIX.slice.
    let old = load("user-scope", Rules::new(246, 0), Scope::User);
    assert!(has(&old, "agent.service", "InSlice", "-.slice"));
    assert!(has(&old, "worker@one.service", "InSlice", "worker.slice"));
}

#[test]
fn presets_and_generators_of_a_user_manager() {
    let g = load("user-scope", Rules::new(252, 0), Scope::User);
    let e = &g.set.enablement["agent.socket"];
    let preset = e.preset.as_ref().expect("agent.socket has a preset");
    assert_eq!(preset.action, "enable");
    assert_eq!(
        preset.path.as_ref().map(|p| p.as_str()),
        Some("/usr/lib/systemd/user-preset/90-default.preset")
    );
    // With generators on, the user generator is listed as not emulated.
    let opts = unitdiff::InputOptions {
        scope: Scope::User,
        ..Default::default()
    };
    let g = unitdiff::open_input_with(&fixture("user-scope"), None, &[], &opts).unwrap();
    let report = g.generators.as_ref().expect("a generator report");
    let listed: Vec<&str> = report
        .not_emulated
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    assert_eq!(
        listed,
        ["/usr/lib/systemd/user-generators/systemd-xdg-autostart-generator"]
    );
    assert!(
        g.set
            .warnings
            .iter()
            .any(|w| w.message.contains("user generators not emulated"))
    );
}

#[test]
fn commands_work_on_a_user_manager_and_say_so() {
    let o = unitdiff(&["--user", "graph", "fixtures/user-scope", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scope"], "user");
    let o = unitdiff(&["graph", "fixtures/user-scope", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scope"], "system");

    let o = unitdiff(&["--user", "graph", "fixtures/user-scope"]);
    assert!(stdout(&o).starts_with("root: fixtures/user-scope (user manager)\n"));

    let o = unitdiff(&["--user", "deps", "fixtures/user-scope", "default.target"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    assert!(
        text.starts_with("fixtures/user-scope (user manager)\n"),
        "{text}"
    );
    assert!(text.contains("worker@one.service"), "{text}");
    let o = unitdiff(&[
        "--user",
        "deps",
        "fixtures/user-scope",
        "default.target",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scope"], "user");

    let o = unitdiff(&[
        "--user",
        "why",
        "fixtures/user-scope",
        "default.target",
        "agent.socket",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scope"], "user");
    assert!(!v["paths"].as_array().unwrap().is_empty());

    // A user manager cannot see system units: no path to one.
    let o = unitdiff(&[
        "--user",
        "why",
        "fixtures/user-scope",
        "bus.service",
        "multi-user.target",
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn diff_of_two_debian_releases_user_units() {
    let o = unitdiff(&[
        "--user",
        "diff",
        "fixtures/debian-12",
        "fixtures/debian-13",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scope"], "user");
    let added: Vec<&str> = v["units"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    // GnuPG 2.4 (Debian 13) adds keyboxd; no system unit shows up in a user diff.
    assert!(added.contains(&"keyboxd.socket"), "{added:?}");
    assert!(
        !added.iter().any(|u| u.starts_with("systemd-networkd")),
        "{added:?}"
    );
    let o = unitdiff(&["--user", "diff", "fixtures/debian-12", "fixtures/debian-13"]);
    let text = stdout(&o);
    assert!(
        text.starts_with("--- fixtures/debian-12  (systemd 252) (user manager)\n"),
        "{text}"
    );
    let o = unitdiff(&[
        "--user",
        "diff",
        "fixtures/debian-12",
        "fixtures/debian-13",
        "--format",
        "markdown",
    ]);
    assert!(stdout(&o).contains("(user manager)"));
}

#[test]
fn an_image_without_user_units_is_refused() {
    let o = unitdiff(&["--user", "graph", "fixtures/coreos-1010"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no systemd user unit directory"), "{err}");
}

/// (from, kind, to) → origin masks, normalised as tests/fidelity.rs does: host-made units
/// and masks dropped, the origin of path-derived mount edges reduced to `path`.
type Edges = BTreeMap<(String, String, String), BTreeSet<String>>;

fn normalise(kind: &str, target: &str, origins: &mut BTreeSet<String>) {
    for host in ["mountinfo", "udev", "proc-swap"] {
        origins.remove(host);
    }
    if matches!(kind, "After" | "Requires" | "Wants") && target.ends_with(".mount") {
        let n = origins.len();
        origins.retain(|o| !matches!(o.as_str(), "file" | "implicit" | "path"));
        if origins.len() != n {
            origins.insert("path".to_string());
        }
    }
}

/// Our user-scope graph of `name` against systemd 252's own `systemd --user --test`:
/// every edge both ways, with its origin.
fn agree_with_systemd(name: &str) {
    let root = fixture(name);
    let g = load(name, Rules::new(252, 0), Scope::User);
    let dirs = paths::declared_user_search_path(&Rules::new(252, 0));
    let want: Vec<String> = g.set.units.keys().map(|k| k.to_string()).collect();
    let opts = OracleOptions {
        add_stubs: false,
        user: true,
        ..OracleOptions::default()
    };
    let run = run_systemd_test_with(&root, &dirs, &want, &opts).unwrap_or_else(|e| panic!("{e}"));
    let mut ours = Edges::new();
    for ((from, kind, to), provs) in &g.edges {
        let mut o: BTreeSet<String> = provs
            .iter()
            .map(|p| p.origin.as_str().to_string())
            .collect();
        normalise(kind.as_str(), to, &mut o);
        ours.insert(
            (from.to_string(), kind.as_str().to_string(), to.to_string()),
            o,
        );
    }
    let host: BTreeSet<&str> = run
        .units
        .values()
        .filter(|u| u.is_host_synthesised() && !g.set.units.contains_key(u.name.as_str()))
        .map(|u| u.name.as_str())
        .collect();
    let mut theirs = Edges::new();
    for u in run.units.values() {
        if host.contains(u.name.as_str()) {
            continue;
        }
        for d in &u.deps {
            if d.is_host_only() || host.contains(d.target.as_str()) {
                continue;
            }
            let mut o: BTreeSet<String> = d.origin.iter().cloned().collect();
            normalise(&d.kind, &d.target, &mut o);
            theirs.insert((u.name.clone(), d.kind.clone(), d.target.clone()), o);
        }
    }
    let mut problems = Vec::new();
    for (k, o) in &theirs {
        match ours.get(k) {
            None => problems.push(format!("systemd has, we lack: {k:?} {o:?}")),
            Some(m) if m != o => problems.push(format!("origin: {k:?} ours {m:?} systemd {o:?}")),
            Some(_) => {}
        }
    }
    for k in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        problems.push(format!("we have, systemd lacks: {k:?}"));
    }
    for (name, u) in &g.set.units {
        match run.unit(name) {
            None => problems.push(format!("{name}: systemd did not load it")),
            Some(o) if o.load_state != u.state.as_str() => problems.push(format!(
                "{name}: state {} vs systemd {}",
                u.state.as_str(),
                o.load_state
            )),
            Some(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{name}: {} difference(s) with systemd --user --test:\n{}\n(systemd: {} edges)\n{}",
        problems.len(),
        problems.join("\n"),
        theirs.len(),
        run.command
    );
    assert!(
        theirs.len() > 50,
        "{name}: systemd showed only {} edges",
        theirs.len()
    );
}

#[test]
#[ignore = "needs systemd 252 at /lib/systemd/systemd, and setpriv"]
fn user_scope_fixture_agrees_with_systemd() {
    agree_with_systemd("user-scope");
}

#[test]
#[ignore = "needs systemd 252 at /lib/systemd/systemd, and setpriv"]
fn debian_12_user_units_agree_with_systemd() {
    agree_with_systemd("debian-12");
}

/// Every report format of every command says it is a user manager's units: the JSON in
/// `scope`, the others after the roots (or, for CI annotations, before each message).
#[test]
fn every_format_names_the_user_scope() {
    let (old, new) = ("fixtures/debian-12", "fixtures/debian-13");
    let mut runs: Vec<Vec<&str>> = Vec::new();
    for f in ["text", "json", "markdown", "dot", "html"] {
        runs.push(vec!["diff", old, new, "--format", f]);
    }
    runs.push(vec!["diff", old, new, "--stat"]);
    for f in [
        "text", "json", "sarif", "github", "junit", "gitlab", "markdown", "html",
    ] {
        runs.push(vec!["check", old, new, "--fail-on", "never", "--format", f]);
    }
    for f in ["text", "json", "markdown", "dot"] {
        runs.push(vec!["graph", old, "--format", f]);
    }
    for f in ["text", "json", "dot"] {
        runs.push(vec!["deps", old, new, "default.target", "--format", f]);
    }
    for f in ["text", "json"] {
        runs.push(vec!["deps", old, "default.target", "--format", f]);
        runs.push(vec![
            "why",
            old,
            "default.target",
            "basic.target",
            "--format",
            f,
        ]);
    }
    for args in runs {
        let mut user = vec!["-q", "--user"];
        user.extend(&args);
        let o = unitdiff(&user);
        assert!(o.status.code().is_some_and(|c| c < 2), "{user:?}: {o:?}");
        let out = stdout(&o);
        let json = args.contains(&"json");
        let said = if json {
            let v: Value = serde_json::from_str(&out).expect("JSON");
            v["scope"] == "user"
        } else {
            out.contains("user manager")
        };
        assert!(said, "{user:?} does not say user manager:\n{out}");
        // The system manager's reports say nothing of a user manager.
        let mut system = vec!["-q"];
        system.extend(&args);
        let o = unitdiff(&system);
        let out = stdout(&o);
        if json {
            let v: Value = serde_json::from_str(&out).expect("JSON");
            assert_eq!(v["scope"], "system", "{system:?}");
        } else {
            assert!(!out.contains("user manager"), "{system:?}:\n{out}");
        }
    }
}
