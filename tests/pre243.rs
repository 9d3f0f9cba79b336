//! systemd before 243 (the CoreOS era): `.include` (before 246), unit files reached through
//! symlinks named after their target, and `.wants/` links as load paths (before 240). The
//! fixture pair `fixtures/coreos-era-old` → `-new` (CoreOS 899 → 1010, systemd 225) and small
//! trees made here. There is no systemd 225 binary to ask: each expectation is derived from
//! systemd's source at the tag named beside it (docs/semantics.md, "systemd before 243"),
//! and each is checked against the same tree read with 252's rules, which must differ.

use assert_cmd::Command;
use serde_json::Value;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use unitdiff::graph::DepGraph;
use unitdiff::unit::{DepKind, How, Layer, LoadState, Provenance, Rules};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn load(root: &Path, v: u32) -> DepGraph {
    unitdiff::load_dir(root, Rules::new(v, 0)).unwrap()
}

fn provs(g: &DepGraph, from: &str, kind: DepKind, to: &str) -> Vec<Provenance> {
    g.edges
        .get(&(from.into(), kind, to.into()))
        .map(|p| p.to_vec())
        .unwrap_or_default()
}

fn has(g: &DepGraph, from: &str, kind: DepKind, to: &str) -> bool {
    !provs(g, from, kind, to).is_empty()
}

fn state(g: &DepGraph, name: &str) -> Option<LoadState> {
    g.set.units.get(name).map(|u| u.state)
}

fn warned(g: &DepGraph, needle: &str) -> bool {
    g.set.warnings.iter().any(|w| w.message.contains(needle))
}

/// A scratch image root.
struct Image(tempfile::TempDir);

impl Image {
    fn new() -> Self {
        Image(tempfile::tempdir().unwrap())
    }
    fn host(&self, rel: &str) -> PathBuf {
        self.0.path().join(rel)
    }
    fn write(&self, rel: &str, content: &str) {
        let p = self.host(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    fn symlink(&self, rel: &str, target: &str) {
        let p = self.host(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }
    fn mkfifo(&self, rel: &str) {
        let p = self.host(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        assert_eq!(
            unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
            0,
            "mkfifo {rel}"
        );
    }
    fn root(&self) -> &Path {
        self.0.path()
    }
}

const ETC: &str = "etc/systemd/system";
const USR: &str = "usr/lib/systemd/system";

/// `.include` reads the vendor unit in its place (v225 `conf-parser.c parse_line`:
/// `file_in_same_dir()` + `config_parse()`), until 246 (NEWS 246: removed). The edges it
/// brings carry the included file and line, and the layer of the directory it is in.
#[test]
fn include_brings_the_vendor_units_dependencies() {
    let new = fixture("coreos-era-new");
    let app = "app-local.service";
    for v in [225, 239, 245] {
        let g = load(&new, v);
        let p = provs(&g, app, DepKind::Requires, "storage.service");
        assert_eq!(p.len(), 1, "{v}: {:?}", g.edges.keys().collect::<Vec<_>>());
        assert_eq!(p[0].how, How::Include);
        assert_eq!(
            p[0].path.as_ref().map(|p| p.as_str()),
            Some("/usr/lib/systemd/system/app.service")
        );
        assert_eq!(p[0].line, Some(3));
        assert_eq!(p[0].layer, Some(Layer::Vendor));
        assert!(has(&g, app, DepKind::After, "storage.service"));
        // ExecStart= comes from the included file: the unit loads.
        assert_eq!(state(&g, app), Some(LoadState::Loaded));
    }
    // 239–245 warn that it is deprecated.
    assert!(!warned(&load(&new, 238), ".include is deprecated"));
    assert!(warned(&load(&new, 239), ".include is deprecated"));
    // 246+: a line without '=' outside any section: ignored, and the unit has no
    // ExecStart=.
    for v in [246, 252] {
        let g = load(&new, v);
        assert!(!has(&g, app, DepKind::Requires, "storage.service"), "{v}");
        assert_eq!(state(&g, app), Some(LoadState::BadSetting), "{v}");
    }
}

/// Before 236 an included file may not include again (v225 passes `allow_include=false`
/// to the nested `config_parse()`, which logs ".include not allowed here"); from 236 the
/// flags are passed on (`bcde742e78`) and the nested file is read.
#[test]
fn nested_include_from_236() {
    let img = Image::new();
    img.write(
        &format!("{ETC}/a.service"),
        ".include b.conf\n[Service]\nExecStart=/bin/a\n",
    );
    img.write(
        &format!("{ETC}/b.conf"),
        "[Unit]\nWants=b.service\n.include c.conf\n",
    );
    img.write(&format!("{ETC}/c.conf"), "[Unit]\nWants=c.service\n");
    let g = load(img.root(), 235);
    assert!(has(&g, "a.service", DepKind::Wants, "b.service"));
    assert!(!has(&g, "a.service", DepKind::Wants, "c.service"));
    assert!(warned(&g, ".include not allowed here"));
    let g = load(img.root(), 236);
    assert!(has(&g, "a.service", DepKind::Wants, "c.service"));
    let p = &provs(&g, "a.service", DepKind::Wants, "c.service")[0];
    assert_eq!(
        p.path.as_ref().unwrap().as_str(),
        "/etc/systemd/system/c.conf"
    );
    assert_eq!(p.line, Some(2));
    assert_eq!(p.layer, Some(Layer::Admin));
}

/// Only fragments may include: a drop-in's `.include` is ignored with an error line
/// (v225 `unit_load_dropin` parses drop-ins with `allow_include=false`).
#[test]
fn include_in_a_dropin_is_ignored() {
    let img = Image::new();
    img.write(&format!("{USR}/a.service"), "[Service]\nExecStart=/bin/a\n");
    img.write(
        &format!("{ETC}/a.service.d/x.conf"),
        ".include /etc/systemd/system/w.conf\n[Unit]\nAfter=x.service\n",
    );
    img.write(&format!("{ETC}/w.conf"), "[Unit]\nWants=w.service\n");
    let g = load(img.root(), 225);
    assert!(has(&g, "a.service", DepKind::After, "x.service"));
    assert!(!has(&g, "a.service", DepKind::Wants, "w.service"));
    assert!(warned(&g, ".include not allowed here"));
}

/// A missing file is skipped (`config_parse()` returns 0 on ENOENT); any other failure to
/// read it fails the fragment (the error propagates out of `config_parse()`): the unit is
/// `error`. A FIFO is never opened (systemd would block on it).
#[test]
fn include_of_missing_fifo_and_directory() {
    let img = Image::new();
    img.write(
        &format!("{ETC}/missing.service"),
        "[Unit]\nWants=x.service\n.include nowhere.conf\n[Service]\nExecStart=/bin/a\n",
    );
    img.write(
        &format!("{ETC}/fifo.service"),
        "[Unit]\nWants=x.service\n.include pipe.conf\nWants=y.service\n[Service]\nExecStart=/bin/a\n",
    );
    img.mkfifo(&format!("{ETC}/pipe.conf"));
    img.write(
        &format!("{ETC}/dir.service"),
        ".include /etc\n[Service]\nExecStart=/bin/a\n",
    );
    let g = load(img.root(), 225);
    assert_eq!(state(&g, "missing.service"), Some(LoadState::Loaded));
    assert!(warned(&g, "no such file, ignored"));
    assert_eq!(state(&g, "fifo.service"), Some(LoadState::Error));
    // What came before the `.include` stays, nothing after it is read.
    assert!(has(&g, "fifo.service", DepKind::Wants, "x.service"));
    assert!(!has(&g, "fifo.service", DepKind::Wants, "y.service"));
    assert!(warned(&g, "not opened"));
    assert_eq!(state(&g, "dir.service"), Some(LoadState::Error));
}

/// A cycle (236–245 have no depth limit: systemd recurses until it runs out of file
/// descriptors) ends at our depth limit with a warning, and the unit is `error`; in 225
/// the nested `.include` is simply refused, so a self-include reads the file twice.
#[test]
fn include_cycles_end() {
    let img = Image::new();
    img.write(
        &format!("{ETC}/loop.service"),
        "[Unit]\nWants=x.service\n.include loop.service\n[Service]\nType=oneshot\nExecStart=/bin/a\n",
    );
    img.write(
        &format!("{ETC}/p.service"),
        ".include q.conf\n[Service]\nExecStart=/bin/p\n",
    );
    img.write(&format!("{ETC}/q.conf"), ".include r.conf\n");
    img.write(&format!("{ETC}/r.conf"), ".include q.conf\n");
    let g = load(img.root(), 240);
    assert_eq!(state(&g, "loop.service"), Some(LoadState::Error));
    assert_eq!(state(&g, "p.service"), Some(LoadState::Error));
    assert!(warned(&g, "a cycle?"));
    let g = load(img.root(), 225);
    assert_eq!(state(&g, "loop.service"), Some(LoadState::Loaded));
    assert!(has(&g, "loop.service", DepKind::Wants, "x.service"));
}

fn unitdiff(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

/// The added edges of `unitdiff diff --format json` as `from kind to how path:line`.
fn added_edges(extra: &[&str]) -> Vec<String> {
    let mut args = vec!["diff", "--format", "json"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["fixtures/coreos-era-old", "fixtures/coreos-era-new"]);
    let o = unitdiff(&args);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{o:?}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["edges"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}:{}",
                e["from"].as_str().unwrap(),
                e["kind"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
                e["how"].as_str().unwrap(),
                e["source"]["path"].as_str().unwrap_or("-"),
                e["source"]["line"]
            )
        })
        .collect()
}

/// The CoreOS-era pair as a user diffs it: the version is detected from os-release (225),
/// and the vendor change reaches the admin's unit through its `.include`; read with 252's
/// rules it does not.
#[test]
fn coreos_era_diff_follows_the_include() {
    let via_include =
        "app-local.service Requires storage.service include /usr/lib/systemd/system/app.service:3";
    let detected = added_edges(&[]);
    assert!(detected.iter().any(|e| e == via_include), "{detected:#?}");
    let pinned = added_edges(&["--systemd-version", "225"]);
    assert_eq!(pinned, detected);
    let new_rules = added_edges(&["--systemd-version", "252"]);
    assert!(
        !new_rules
            .iter()
            .any(|e| e.starts_with("app-local.service ")),
        "{new_rules:#?}"
    );
}

/// A relative `.include` is taken from the directory of the file systemd opened: before
/// 243 the file the link leads to (`open_follow` follows it and keeps the final name), in
/// 243–245 the link in the search path (the name map's fragment path).
#[test]
fn relative_include_of_a_linked_unit_file() {
    let img = Image::new();
    img.symlink(&format!("{ETC}/linked.service"), "/opt/l/linked.service");
    img.write(
        "opt/l/linked.service",
        ".include extra.conf\n[Service]\nExecStart=/bin/l\n",
    );
    img.write("opt/l/extra.conf", "[Unit]\nWants=from-opt.service\n");
    img.write(
        &format!("{ETC}/extra.conf"),
        "[Unit]\nWants=from-etc.service\n",
    );
    let g = load(img.root(), 242);
    assert!(has(
        &g,
        "linked.service",
        DepKind::Wants,
        "from-opt.service"
    ));
    assert!(!has(
        &g,
        "linked.service",
        DepKind::Wants,
        "from-etc.service"
    ));
    let g = load(img.root(), 243);
    assert!(has(
        &g,
        "linked.service",
        DepKind::Wants,
        "from-etc.service"
    ));
    assert!(!has(
        &g,
        "linked.service",
        DepKind::Wants,
        "from-opt.service"
    ));
}

fn fragment_path(g: &DepGraph, name: &str) -> Option<String> {
    g.set
        .units
        .get(name)?
        .fragment
        .as_ref()
        .map(|f| f.path.to_string())
}

/// A unit file linked from outside the search path is named after its target before 243:
/// `open_follow` adds every valid name along the symlinks to the unit and `merge_by_names`
/// makes the last one (the file's) its id (v225, v242 `load-fragment.c`). From 243 the
/// name map keeps the link's name and the target's name is nothing (v243
/// `unit_file_build_name_map`: a link out of the search path is a "linked unit file").
#[test]
fn linked_unit_file_is_named_after_its_target() {
    let new = fixture("coreos-era-new");
    for v in [225, 242] {
        let g = load(&new, v);
        let u = &g.set.units["agent-2.0.service"];
        assert_eq!(u.state, LoadState::Loaded);
        assert!(u.aliases.contains("agent.service"), "{v}");
        assert!(!g.set.units.contains_key("agent.service"), "{v}");
        assert_eq!(
            fragment_path(&g, "agent-2.0.service").as_deref(),
            Some("/opt/agent/agent-2.0.service")
        );
        // Every reference by the link's name reaches the unit.
        assert!(has(
            &g,
            "health.service",
            DepKind::Requires,
            "agent-2.0.service"
        ));
        assert!(has(
            &g,
            "multi-user.target",
            DepKind::Wants,
            "agent-2.0.service"
        ));
    }
    for v in [243, 252] {
        let g = load(&new, v);
        assert_eq!(state(&g, "agent.service"), Some(LoadState::Loaded), "{v}");
        assert!(!g.set.names.contains_key("agent-2.0.service"), "{v}");
        assert!(has(
            &g,
            "health.service",
            DepKind::Requires,
            "agent.service"
        ));
    }
    // In 899 the link and its target have the same name: the same unit in both rule sets.
    let old = fixture("coreos-era-old");
    assert_eq!(
        state(&load(&old, 225), "agent.service"),
        Some(LoadState::Loaded)
    );
    assert_eq!(
        state(&load(&old, 252), "agent.service"),
        Some(LoadState::Loaded)
    );
}

/// Before 240 a `.wants/` link's target loads a unit no search directory has (v239
/// `load-dropin.c process_deps` passes the link's path to `unit_add_dependency_by_name`,
/// which `unit_load_fragment` tries after the search path, "the suggested (originally
/// linked) path"); v240 passes none (NEWS 240: "The target paths of those symlinks are not
/// used for loading units anymore").
#[test]
fn wants_link_outside_the_search_path_loads_until_240() {
    let new = fixture("coreos-era-new");
    for v in [225, 239] {
        let g = load(&new, v);
        assert_eq!(state(&g, "metrics.service"), Some(LoadState::Loaded), "{v}");
        assert_eq!(
            fragment_path(&g, "metrics.service").as_deref(),
            Some("/opt/metrics/metrics.service")
        );
        let p = &provs(
            &g,
            "metrics.service",
            DepKind::Requires,
            "app-local.service",
        )[0];
        assert_eq!(p.line, Some(3));
    }
    for v in [240, 252] {
        let g = load(&new, v);
        assert_eq!(
            state(&g, "metrics.service"),
            Some(LoadState::NotFound),
            "{v}"
        );
        assert!(!has(
            &g,
            "metrics.service",
            DepKind::Requires,
            "app-local.service"
        ));
        // The link still makes the edge.
        assert!(has(
            &g,
            "multi-user.target",
            DepKind::Wants,
            "metrics.service"
        ));
    }
}

/// The diff of the pair under 225: the agent is a unit renamed (its link now leads to
/// `agent-2.0.service`), and `metrics.service`'s new dependency shows; with 252's rules
/// neither does.
#[test]
fn coreos_era_diff_renames_the_linked_unit() {
    let detected = added_edges(&[]);
    for e in [
        "health.service Requires agent-2.0.service fragment /etc/systemd/system/health.service:3",
        "metrics.service Requires app-local.service fragment /opt/metrics/metrics.service:3",
    ] {
        assert!(detected.iter().any(|d| d == e), "{e} in {detected:#?}");
    }
    let new_rules = added_edges(&["--systemd-version", "252"]);
    assert!(
        !new_rules
            .iter()
            .any(|e| e.contains("agent-2.0") || e.starts_with("metrics.service ")),
        "{new_rules:#?}"
    );
}

/// `deps` and `why` answer with the unit's pre-243 name: asked by the link's name, the
/// unit is `agent-2.0.service`.
#[test]
fn deps_and_why_use_the_pre243_names() {
    let o = unitdiff(&[
        "--quiet",
        "why",
        "fixtures/coreos-era-new",
        "health",
        "agent",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("agent-2.0.service"), "{text}");
    // With 252's rules (`--systemd-version 252`) the name resolves to the link's own.
    let o = unitdiff(&[
        "--quiet",
        "why",
        "--systemd-version",
        "252",
        "fixtures/coreos-era-new",
        "health",
        "agent",
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("agent.service") && !text.contains("agent-2.0.service"),
        "{text}"
    );
    let o = unitdiff(&[
        "--quiet",
        "deps",
        "--systemd-version",
        "252",
        "fixtures/coreos-era-new",
        "metrics",
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(!text.contains("app-local.service"), "{text}");
    let o = unitdiff(&["--quiet", "deps", "fixtures/coreos-era-new", "metrics"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("├─app-local.service"), "{text}");
}

/// Aliases are known only once something loads them (before 243): a service loaded by its
/// own name first does not read the drop-ins of an alias met later (`service_load` leaves
/// the merged unit alone); other types do (`unit_load_dropin(unit_follow_merge(u))`).
/// Units are loaded by name, so `real.service` comes before `zz-alias.service`.
#[test]
fn alias_directories_only_once_loaded_through_the_alias() {
    let img = Image::new();
    img.write(
        &format!("{USR}/real.service"),
        "[Service]\nExecStart=/bin/r\n",
    );
    img.symlink(
        &format!("{ETC}/zz-alias.service"),
        "/usr/lib/systemd/system/real.service",
    );
    img.write(
        &format!("{ETC}/zz-alias.service.d/x.conf"),
        "[Unit]\nWants=from-alias.service\n",
    );
    img.symlink(
        &format!("{ETC}/aa-alias.service"),
        "/usr/lib/systemd/system/real2.service",
    );
    img.write(
        &format!("{USR}/real2.service"),
        "[Service]\nExecStart=/bin/r\n",
    );
    img.write(
        &format!("{ETC}/aa-alias.service.d/x.conf"),
        "[Unit]\nWants=from-aa.service\n",
    );
    img.write(&format!("{USR}/real.target"), "[Unit]\n");
    img.symlink(
        &format!("{ETC}/zz-alias.target"),
        "/usr/lib/systemd/system/real.target",
    );
    img.symlink(
        &format!("{ETC}/zz-alias.target.wants/w.service"),
        "/usr/lib/systemd/system/real.service",
    );
    let g = load(img.root(), 225);
    assert!(
        g.set.units["real.service"]
            .aliases
            .contains("zz-alias.service")
    );
    assert!(!has(
        &g,
        "real.service",
        DepKind::Wants,
        "from-alias.service"
    ));
    // Loaded through its alias first: the alias's drop-ins count.
    assert!(has(&g, "real2.service", DepKind::Wants, "from-aa.service"));
    // A target reads its late alias's `.wants/`; the link `w.service` there names no file
    // of the search path, so (before 240) its target loads it: `w.service` becomes a name
    // of `real.service`.
    assert!(has(&g, "real.target", DepKind::Wants, "real.service"));
    assert!(g.set.units["real.service"].aliases.contains("w.service"));
    let g = load(img.root(), 252);
    assert!(has(
        &g,
        "real.service",
        DepKind::Wants,
        "from-alias.service"
    ));
    assert!(has(&g, "real.target", DepKind::Wants, "w.service"));
    assert_eq!(state(&g, "w.service"), Some(LoadState::NotFound));
}

/// Following symlinks by path stays inside the image and ends: a loop is "too many levels"
/// (the unit is not found, with a warning), a link climbing out of the root lands inside
/// it, and a dangling entry lets the next directory's file load (ENOENT).
#[test]
fn following_by_path_is_bounded_and_stays_inside() {
    let img = Image::new();
    img.symlink(&format!("{ETC}/loop.service"), "loop2.service");
    img.symlink(&format!("{ETC}/loop2.service"), "loop.service");
    img.symlink(
        &format!("{ETC}/out.service"),
        "../../../../../../opt/o/out.service",
    );
    img.write("opt/o/out.service", "[Service]\nExecStart=/bin/o\n");
    img.symlink(
        &format!("{ETC}/dangling.service"),
        "/nowhere/dangling.service",
    );
    img.write(
        &format!("{USR}/dangling.service"),
        "[Service]\nExecStart=/bin/d\n",
    );
    img.mkfifo("opt/o/fifo.service");
    img.symlink(&format!("{ETC}/fifo.service"), "/opt/o/fifo.service");
    let g = load(img.root(), 225);
    assert_eq!(state(&g, "loop.service"), Some(LoadState::NotFound));
    assert!(warned(&g, "too many levels"));
    assert_eq!(state(&g, "out.service"), Some(LoadState::Loaded));
    assert_eq!(
        fragment_path(&g, "out.service").as_deref(),
        Some("/opt/o/out.service")
    );
    assert_eq!(state(&g, "dangling.service"), Some(LoadState::Loaded));
    assert_eq!(
        fragment_path(&g, "dangling.service").as_deref(),
        Some("/usr/lib/systemd/system/dangling.service")
    );
    assert_eq!(state(&g, "fifo.service"), Some(LoadState::NotFound));
    // 252: the dangling link in /etc hides the vendor file.
    let g = load(img.root(), 252);
    assert_eq!(state(&g, "dangling.service"), Some(LoadState::NotFound));
}

/// Before 233 every entry of a `.wants/` directory counts, regular files too (v225
/// `iterate_dir` passes each entry's path to `unit_add_dependency_by_name`): a file there
/// whose name no search directory has is the unit's fragment. 233–239 take only symlinks;
/// from 240 no entry's path is used.
#[test]
fn wants_directory_file_is_a_fragment_before_233() {
    let img = Image::new();
    img.write(&format!("{USR}/m.target"), "[Unit]\n");
    img.write(
        &format!("{ETC}/m.target.wants/inline.service"),
        "[Unit]\nWants=x.service\n[Service]\nExecStart=/bin/i\n",
    );
    let g = load(img.root(), 225);
    assert!(has(&g, "m.target", DepKind::Wants, "inline.service"));
    assert_eq!(state(&g, "inline.service"), Some(LoadState::Loaded));
    assert!(has(&g, "inline.service", DepKind::Wants, "x.service"));
    let g = load(img.root(), 233);
    assert!(!has(&g, "m.target", DepKind::Wants, "inline.service"));
    assert!(!g.set.units.contains_key("inline.service"));
}

/// Before 243 aliases are not validated: a link to a unit of another type is followed, and
/// the names cannot be merged (`unit_add_name` refuses another type), so the unit is not
/// found (v225 `merge_by_names` returns the error through `load_from_path`). From 243 the
/// invalid alias is skipped and a lower file of that name loads.
#[test]
fn alias_to_another_type_is_not_found_before_243() {
    let img = Image::new();
    img.write(
        &format!("{USR}/sock.socket"),
        "[Socket]\nListenStream=/run/s\n",
    );
    img.symlink(
        &format!("{ETC}/baz.service"),
        "/usr/lib/systemd/system/sock.socket",
    );
    img.write(
        &format!("{USR}/baz.service"),
        "[Service]\nExecStart=/bin/b\n",
    );
    let g = load(img.root(), 225);
    assert_eq!(state(&g, "baz.service"), Some(LoadState::NotFound));
    assert!(warned(&g, "a name it cannot take"));
    assert_eq!(state(&g, "sock.socket"), Some(LoadState::Loaded));
    let g = load(img.root(), 252);
    assert_eq!(state(&g, "baz.service"), Some(LoadState::Loaded));
}

/// Many aliases of one non-service unit met late (before 243) each re-read the unit's
/// directories under every name so far (N² work): past `MAX_LATE_ALIAS_READS` the names
/// still resolve, their directories are no longer read, and a warning says so.
#[test]
fn many_late_aliases_are_bounded() {
    let img = Image::new();
    img.write(
        &format!("{ETC}/t.socket"),
        "[Socket]\nListenStream=/run/t\n",
    );
    let n = unitdiff::unit::budget::MAX_LATE_ALIAS_READS + 40;
    for i in 0..n {
        img.symlink(&format!("{ETC}/x{i:03}.socket"), "t.socket");
        img.symlink(
            &format!("{ETC}/x{i:03}.socket.wants/w{i:03}.service"),
            "/dev/null",
        );
    }
    let g = load(img.root(), 230);
    let t = &g.set.units["t.socket"];
    assert_eq!(t.aliases.len(), n, "every name is the unit's");
    assert!(warned(&g, "aliases met late"), "{:?}", g.set.warnings);
    // The first aliases' directories were read.
    assert!(has(&g, "t.socket", DepKind::Wants, "w000.service"));
}

/// A nested relative `.include` (236–245) is read from the directory of the path as written:
/// systemd's nested `config_parse(fn)` keeps the unresolved `fn` as its file name, so
/// `inc/a.conf -> /opt/a.conf` that includes `b.conf` reads `inc/b.conf`, not `/opt/b.conf`.
#[test]
fn nested_include_is_relative_to_the_link() {
    let img = Image::new();
    img.write(
        &format!("{ETC}/x.service"),
        ".include inc/a.conf\n[Service]\nExecStart=/bin/x\n",
    );
    img.symlink(&format!("{ETC}/inc/a.conf"), "/opt/a.conf");
    img.write("opt/a.conf", ".include b.conf\n");
    img.write(
        &format!("{ETC}/inc/b.conf"),
        "[Unit]\nWants=from-link-dir.service\n",
    );
    img.write("opt/b.conf", "[Unit]\nWants=from-target-dir.service\n");
    let g = load(img.root(), 240);
    assert!(has(
        &g,
        "x.service",
        DepKind::Wants,
        "from-link-dir.service"
    ));
    assert!(!has(
        &g,
        "x.service",
        DepKind::Wants,
        "from-target-dir.service"
    ));
}
